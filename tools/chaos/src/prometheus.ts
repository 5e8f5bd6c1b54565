import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SubgraphName } from '@shop/db';
import { freePort, until } from '@shop/test-support';
import { onCleanup } from './cleanup.ts';

export const ALERT_RULES = fileURLToPath(new URL('../../../observability/prometheus/alerts.yml', import.meta.url));

export function findPrometheus(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin')) {
    const candidate = join(dir, 'prometheus');
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

export const PROMETHEUS_MISSING =
  'Prometheus not found on PATH: install Debian\'s package (`apt-get install -y prometheus`), or run with --no-prometheus to skip the alert checks.';

/**
 * The project's alert rules with every `for:` multiplied by `scale`, so that a fault held for
 * tens of seconds can show that a rule's expression catches it and that it would fire: with
 * `for: 5m` and scale 0.1, it fires after 30 s of the condition. Rate windows stay as written.
 */
export function scaleForDurations(rules: string, scale: number): string {
  if (scale === 1) return rules;
  const unit = { s: 1, m: 60, h: 3600 } as const;
  return rules.replace(/^(\s*for:\s*)(\d+)([smh])[ \t]*$/gm, (_, prefix: string, value: string, u: keyof typeof unit) => {
    const seconds = Math.max(1, Math.round(Number(value) * unit[u] * scale));
    return `${prefix}${seconds}s`;
  });
}

export interface ScrapeTargets {
  gateway: { address: string; path: string };
  subgraphs: Record<SubgraphName, string>;
}

/** An alert as seen over the run: when Prometheus first had it pending, and when firing. */
export interface AlertSighting {
  name: string;
  labels: Record<string, string>;
  /** Epoch ms: Prometheus' activeAt (the condition first held). */
  activeAt: number;
  /** Epoch ms: first poll that saw it firing; null while it never fired. */
  firingAt: number | null;
  lastSeen: number;
}

export interface RunningPrometheus {
  url: string;
  sightings(): AlertSighting[];
  /** Current state of an alert key: for waiting in the runner. */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

function prometheusConfig(targets: ScrapeTargets, intervalSeconds: number): string {
  const subgraphs = Object.entries(targets.subgraphs)
    .map(([name, address]) => `      - targets: ['${address}']\n        labels: { subgraph: ${name} }`)
    .join('\n');
  return `# Written by npm run chaos for one run.
global:
  scrape_interval: ${intervalSeconds}s
  scrape_timeout: ${Math.round(intervalSeconds * 800)}ms
  evaluation_interval: ${intervalSeconds}s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: gateway
    metrics_path: ${targets.gateway.path}
    static_configs:
      - targets: ['${targets.gateway.address}']
  - job_name: subgraphs
    static_configs:
${subgraphs}
`;
}

export async function startPrometheus(options: {
  binary: string;
  targets: ScrapeTargets;
  forScale: number;
  intervalSeconds: number;
}): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'shop-chaos-prometheus-'));
  onCleanup('Prometheus directory', () => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'prometheus.yml'), prometheusConfig(options.targets, options.intervalSeconds));
  await writeFile(join(dir, 'rules.yml'), scaleForDurations(await readFile(ALERT_RULES, 'utf8'), options.forScale));
  const port = await freePort();
  const child = spawn(
    options.binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  onCleanup('Prometheus', stop);
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${output}`);
      return fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    },
    { timeoutMs: 30_000, intervalMs: 200, what: 'Prometheus ready' },
  );

  const seen = new Map<string, AlertSighting>();
  const poll = async () => {
    let alerts: Array<{ labels: Record<string, string>; state: string; activeAt: string }>;
    try {
      const response = await fetch(`${url}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) return;
      alerts = ((await response.json()) as { data: { alerts: typeof alerts } }).data.alerts;
    } catch {
      // A slow answer on a busy machine: the next poll reads the same state.
      return;
    }
    const now = Date.now();
    const data = { alerts };
    for (const alert of data.alerts) {
      const { alertname = '?', ...labels } = alert.labels;
      const activeAt = Date.parse(alert.activeAt);
      // One sighting per episode: the same alert active again later is a new one.
      const key = `${alertname}${JSON.stringify(labels)}@${activeAt}`;
      const sighting = seen.get(key) ?? { name: alertname, labels, activeAt, firingAt: null, lastSeen: now };
      sighting.lastSeen = now;
      if (alert.state === 'firing' && sighting.firingAt === null) sighting.firingAt = now;
      seen.set(key, sighting);
    }
  };
  const timer = setInterval(() => void poll(), 1_000);
  onCleanup('alert polling', () => clearInterval(timer));
  return { url, sightings: () => [...seen.values()], poll, stop };
}
