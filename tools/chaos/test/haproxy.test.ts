import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findHaproxy, haproxyConfig } from '../src/haproxy.ts';

describe("npm run cluster's balancer configuration", () => {
  const services = [
    { name: 'gateway', port: 14000, replicas: [{ name: 'gateway-1', port: 14001 }, { name: 'gateway-2', port: 14002 }] },
    { name: 'accounts', port: 14010, replicas: [{ name: 'accounts-1', port: 14011 }, { name: 'accounts-2', port: 14012 }] },
  ];

  it('balances each service over its replicas, checks /ready, retries only what was never processed', () => {
    const config = haproxyConfig(services, '/tmp/x.sock');
    expect(config).toContain('retry-on conn-failure empty-response');
    expect(config).toContain('option http-buffer-request');
    expect(config.match(/http-check send meth GET uri \/ready/g)).toHaveLength(2);
    expect(config.match(/^ {2}server \S+ 127\.0\.0\.1:\d+ check$/gm)).toHaveLength(4);
    expect(config).toContain('bind 127.0.0.1:14010');
  });

  it('is a configuration haproxy itself accepts (haproxy -c)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shop-haproxy-'));
    try {
      const path = join(dir, 'haproxy.cfg');
      await writeFile(path, haproxyConfig(services, join(dir, 'haproxy.sock')));
      const check = spawnSync(findHaproxy(), ['-c', '-f', path], { encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toMatch(/Configuration file is valid/);
      expect(check.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
