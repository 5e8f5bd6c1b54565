/**
 * `npm run bench:profile -- <file.cpuprofile> [--top 25]`: where a gateway's CPU went under the
 * bench's load (`npm run bench -- --cpu-prof dir`). Self time per function and per package
 * (garbage collection, @apollo/gateway's plan execution, graphql-js, our gateway, Node's HTTP),
 * so a change to the request path is chosen from the profile, then measured by the bench.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, missingInput, runCli, usageError } from '@shop/cli-kit';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const USAGE = 'npm run bench:profile -- <file.cpuprofile> [--top N]';

/**
 * The package a frame belongs to, from its script URL; in our bundle (esbuild keeps node_modules
 * external and marks each of our modules with a `// path/to/module.ts` line), the module of its line.
 */
function packageOf(url: string, functionName: string, lineNumber: number): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:') || url === '') return url ? 'node' : '(native)';
  const module = bundledModules(url).findLast((m) => m.line <= lineNumber);
  return module ? module.path : url.split('/').slice(-2).join('/');
}

const bundles = new Map<string, Array<{ line: number; path: string }>>();
function bundledModules(url: string): Array<{ line: number; path: string }> {
  let modules = bundles.get(url);
  if (!modules) {
    modules = [];
    try {
      const lines = readFileSync(new URL(url), 'utf8').split('\n');
      lines.forEach((text, line) => {
        const marker = /^\/\/ (\S+\.[cm]?[tj]s)$/.exec(text);
        if (marker) modules!.push({ line, path: marker[1]! });
      });
    } catch {
      // Not a file we can read (gone, or not a file: URL): grouped by its URL instead.
    }
    bundles.set(url, modules);
  }
  return modules;
}

/** Self time per function and per package, in ms, busiest first. */
function summarize(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += ms;
    const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-1)[0]}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const pkg = packageOf(url, functionName, lineNumber);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(functions), packages: sorted(packages) };
}

await runCli('bench:profile', async (argv) => {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { top: { type: 'string' } } });
  const [file] = positionals;
  if (!file) throw usageError(`expected a .cpuprofile file; usage: ${USAGE}`);
  const top = Number(values.top ?? 25);
  if (!Number.isInteger(top) || top <= 0) throw usageError('--top: expected a positive integer');
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), file);
  const text = await readFile(path, 'utf8').catch(() => {
    throw missingInput(`cannot read ${path}`);
  });
  const { total, functions, packages } = summarize(JSON.parse(text) as CpuProfile);
  const busy = total - (packages.find(([p]) => p === '(idle)')?.[1] ?? 0);
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  console.log(`${(busy / 1000).toFixed(1)} s busy of ${(total / 1000).toFixed(1)} s profiled; shares of busy time\n\nBy package (self time):`);
  for (const [name, ms] of packages.filter(([p]) => p !== '(idle)').slice(0, top)) console.log(`  ${pct(ms)}  ${name}`);
  console.log('\nBy function (self time):');
  for (const [name, ms] of functions.filter(([f]) => !f.startsWith('(idle)')).slice(0, top)) console.log(`  ${pct(ms)}  ${name}`);
  return EXIT.ok;
}, { usage: USAGE });
