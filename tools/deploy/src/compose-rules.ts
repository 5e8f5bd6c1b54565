/**
 * The compose file's rules, checked without a container engine: the whole stack is there, every
 * service has a healthcheck and a non-root user, ours run read-only in production from the
 * Dockerfile's target of the same name with their settings, and the secrets come from the
 * environment (deploy:keys), never from the file.
 */
import { parse } from 'yaml';
import { SERVICE_ENTRIES } from './dockerfile-rules.ts';

type Service = {
  image?: string;
  build?: { context?: string; target?: string };
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
};

export const STACK = ['gateway', 'accounts', 'products', 'inventory', 'reviews', 'orders', 'postgres', 'redis', 'jaeger', 'prometheus', 'grafana'];
const OURS = Object.keys(SERVICE_ENTRIES);
/** Variables that hold a secret: `${VAR}` from the environment, never written in the file. */
const SECRET_NAME = /(KEY|SECRET|PASSWORD|TOKEN)/;

export function checkCompose(text: string): string[] {
  const problems: string[] = [];
  // merge: true resolves the file's `<<:` anchors as compose does.
  const file = parse(text, { merge: true }) as { services?: Record<string, Service> };
  const services = file.services ?? {};
  for (const name of STACK) if (!services[name]) problems.push(`compose: no service ${name}`);
  for (const [name, service] of Object.entries(services)) {
    const where = `compose service ${name}`;
    if (!service.user || /^(root|0)(:|$)/.test(String(service.user))) problems.push(`${where}: needs a non-root user`);
    const oneShot = service.restart === 'no' && service.healthcheck?.disable === true;
    if (!oneShot && (!service.healthcheck?.test || service.healthcheck.disable)) problems.push(`${where}: no healthcheck`);
    if (oneShot) {
      const waited = Object.values(services).some((s) => !Array.isArray(s.depends_on) && s.depends_on?.[name]?.condition === 'service_completed_successfully');
      if (!waited) problems.push(`${where}: a one-shot job nothing waits for (depends_on: service_completed_successfully)`);
    }
    if (service.image && !service.build && (!/:[\w.-]+$/.test(service.image) || service.image.endsWith(':latest'))) problems.push(`${where}: image ${service.image} must be pinned to a version`);
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (SECRET_NAME.test(key) && typeof value === 'string' && value !== '' && !value.startsWith('${')) problems.push(`${where}: ${key} is written in the file; take it from the environment (\${${key}})`);
    }
    const dependencies = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
    for (const dependency of dependencies) if (!services[dependency]) problems.push(`${where}: depends on ${dependency}, which is not a service`);
  }
  for (const name of OURS) {
    const service = services[name];
    if (!service) continue;
    const where = `compose service ${name}`;
    if (service.build?.target !== name) problems.push(`${where}: must build the Dockerfile's target ${name}`);
    if (service.read_only !== true) problems.push(`${where}: read_only must be true`);
    if (!service.tmpfs?.includes('/tmp')) problems.push(`${where}: needs a tmpfs on /tmp (its only writable place)`);
    if (service.environment?.NODE_ENV !== 'production') problems.push(`${where}: NODE_ENV must be production`);
    if (!service.environment?.PORT) problems.push(`${where}: no PORT`);
    if (name !== 'gateway' && !service.environment?.DATABASE_URL) problems.push(`${where}: no DATABASE_URL`);
  }
  const gateway = services.gateway?.environment ?? {};
  for (const key of ['INTERNAL_SIGNING_KEY', 'AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'REDIS_URL']) if (!gateway[key]) problems.push(`compose service gateway: no ${key}`);
  for (const name of OURS.filter((n) => n !== 'gateway')) {
    if (!gateway[`SUBGRAPH_URL_${name.toUpperCase()}`]) problems.push(`compose service gateway: no SUBGRAPH_URL_${name.toUpperCase()} (the baked supergraph routes to 127.0.0.1)`);
  }
  return problems;
}
