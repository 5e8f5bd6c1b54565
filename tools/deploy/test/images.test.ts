import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCompose } from '../src/compose-rules.ts';
import { checkDockerfile, parseDockerfile } from '../src/dockerfile-rules.ts';
import { PATHS } from '../src/paths.ts';

const dockerfile = readFileSync(PATHS.dockerfile, 'utf8');
const dockerignore = readFileSync(PATHS.dockerignore, 'utf8');
const compose = readFileSync(PATHS.compose, 'utf8');

describe('the Dockerfile', () => {
  it('has a target per service plus the migration job, and passes every rule', () => {
    const names = parseDockerfile(dockerfile).stages.map((s) => s.name);
    expect(names).toEqual(['build', 'prod-deps', 'runtime', 'gateway', 'accounts', 'products', 'inventory', 'reviews', 'orders', 'migrate']);
    expect(checkDockerfile(dockerfile, dockerignore)).toEqual([]);
  });

  it.each([
    ['a root user', (d: string) => d.replace('USER node\n\n# ---- the services', 'USER root\n\n# ---- the services'), /target gateway: must run as a non-root USER/],
    ['no HEALTHCHECK', (d: string) => d.replace(/HEALTHCHECK .*\nCMD \["node", "subgraphs\/orders/, 'CMD ["node", "subgraphs/orders'), /target orders: no HEALTHCHECK/],
    ['a shell-form CMD', (d: string) => d.replace('CMD ["node", "gateway/dist/main.js"]', 'CMD node gateway/dist/main.js'), /target gateway: CMD must be in exec form/],
    ['node flags in CMD', (d: string) => d.replace('CMD ["node", "gateway/dist/main.js"]', 'CMD ["node", "--max-old-space-size=192", "gateway/dist/main.js"]'), /node flags belong to the entry point/],
    ['an unpinned base image', (d: string) => d.replace('node:22.16.0-bookworm-slim', 'node:latest'), /must be pinned to a version/],
    ['dev dependencies in the image', (d: string) => d.replace(/--omit=dev /, ''), /no production-only install/],
    ['a service built on the build stage', (d: string) => d.replace('FROM runtime AS reviews', 'FROM build AS reviews'), /target reviews: built on the build stage/],
  ])('refuses %s', (_, change, expected) => {
    const changed = change(dockerfile);
    expect(changed).not.toBe(dockerfile);
    expect(checkDockerfile(changed, dockerignore).join('\n')).toMatch(expected);
  });

  it('refuses a .dockerignore that lets node_modules into the build', () => {
    expect(checkDockerfile(dockerfile, dockerignore.replace('**/node_modules\n', '')).join('\n')).toMatch(/\.dockerignore: must exclude node_modules/);
  });
});

describe('the compose file', () => {
  it('runs the whole stack and passes every rule', () => {
    expect(checkCompose(compose)).toEqual([]);
  });

  it.each([
    ['a service without a healthcheck', (c: string) => c.replace(/ {4}healthcheck:\n {6}test: \[CMD, redis-cli, ping\]\n {6}interval: 5s\n {6}timeout: 3s\n {6}retries: 20\n/, ''), /compose service redis: no healthcheck/],
    ['a root user', (c: string) => c.replace('    user: postgres\n', '    user: root\n'), /compose service postgres: needs a non-root user/],
    ['a secret written in the file', (c: string) => c.replace('${POSTGRES_PASSWORD:?run npm run -s deploy:keys > deploy/.env}', 'hunter2'), /POSTGRES_PASSWORD is written in the file/],
    ['a writable root filesystem', (c: string) => c.replace('  read_only: true\n  tmpfs: [/tmp]\n  restart', '  read_only: false\n  tmpfs: [/tmp]\n  restart'), /compose service gateway: read_only must be true/],
    ['a missing service', (c: string) => c.replace(/\n {2}jaeger:\n/, '\n  tracing:\n'), /compose: no service jaeger/],
    ['the gateway routed to loopback', (c: string) => c.replace('      SUBGRAPH_URL_ORDERS: http://orders:4005/graphql\n', ''), /no SUBGRAPH_URL_ORDERS/],
  ])('refuses %s', (_, change, expected) => {
    const changed = change(compose);
    expect(changed).not.toBe(compose);
    expect(checkCompose(changed).join('\n')).toMatch(expected);
  });
});
