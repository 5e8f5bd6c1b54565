import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The README's "Error codes" table is the catalogue clients read. This test keeps it whole: it
 * collects every SCREAMING_SNAKE string literal in the code that answers requests (gateway,
 * subgraphs, shared packages), sets aside what is provably not an `extensions.code` (environment
 * variable names, errno and undici codes, the operator tools' own codes), and fails naming each
 * code the table lacks. Scanning every literal rather than only `code: '...'` and
 * `HttpError(status, '...')` also catches codes passed through helpers (`limitError('X', ...)`,
 * `badInput(message, 'X')`) and constants (`const X = 'X'`), whatever their shape.
 */

const repo = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_ROOTS = ['gateway/src', 'observability/src', 'packages', 'subgraphs'];
/** Not request-serving code: test helpers, and output generated from the schemas. */
const SKIPPED_DIRS = new Set(['node_modules', 'generated', 'dist', 'test', 'test-support']);
const LITERAL = /(['"`])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\1/g;
/** Codes of the network stack and signals that the code matches on, never sends. */
const NOT_OURS = /^(EAI_AGAIN|UND_ERR_[A-Z_]+)$/;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(repo, dir), { withFileTypes: true });
  const files = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : sourceFiles(path);
      return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [path] : [];
    }),
  );
  return files.flat();
}

/** Every literal that may be an error code, with the files it appears in. */
async function literalsInSources(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const root of SOURCE_ROOTS) {
    for (const file of await sourceFiles(root)) {
      const text = await readFile(join(repo, file), 'utf8');
      for (const match of text.matchAll(LITERAL)) {
        const files = found.get(match[2]!) ?? [];
        if (!files.includes(file)) files.push(file);
        found.set(match[2]!, files);
      }
    }
  }
  return found;
}

function section(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const backticked = (text: string) => [...text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)].map((m) => m[1]!);

interface Catalogue {
  /** The table's first column. */
  codes: Map<string, { status: string; advice: string }>;
  /** Every code named anywhere in a row (an `extensions.reason` such as TOKEN_EXPIRED is named in its code's row). */
  named: Set<string>;
}

function catalogue(readme: string): Catalogue {
  const rows = section(readme, 'Error codes')
    .split('\n')
    .filter((line) => /^\| `[A-Z]/.test(line));
  const codes = new Map<string, { status: string; advice: string }>();
  const named = new Set<string>();
  for (const row of rows) {
    const cells = row.split(' | ').map((cell) => cell.replace(/^\|? ?| ?\|?$/g, ''));
    const [code] = backticked(cells[0]!);
    if (code) codes.set(code, { status: cells[1] ?? '', advice: cells[4] ?? '' });
    for (const name of backticked(row)) named.add(name);
  }
  return { codes, named };
}

async function notResponseCodes(readme: string): Promise<Set<string>> {
  // Environment variables: the first column of the Configuration table names every one.
  const variables = section(readme, 'Configuration')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => backticked(line.split(' | ')[0]!));
  // The persisted store's codes are shown by `npm run pq`, never sent in a response.
  const persisted = await readFile(join(repo, 'gateway/src/persisted/errors.ts'), 'utf8');
  const union = /export type PersistedErrorCode =([^;]+);/.exec(persisted);
  if (!union) throw new Error('gateway/src/persisted/errors.ts no longer declares PersistedErrorCode');
  const toolCodes = [...union[1]!.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
  return new Set([...variables, ...toolCodes]);
}

describe('the error catalogue (README "Error codes")', () => {
  it('lists every code the gateway, the subgraphs and the shared packages can emit, and no code nothing emits', async () => {
    const readme = await readFile(join(repo, 'README.md'), 'utf8');
    const { codes, named } = catalogue(readme);
    const excluded = await notResponseCodes(readme);
    const literals = await literalsInSources();

    const emitted = [...literals].filter(([literal]) => !excluded.has(literal) && !NOT_OURS.test(literal));
    const missing = emitted
      .filter(([code]) => !named.has(code))
      .map(([code, files]) => `${code} (in ${files.join(', ')}) is missing from README.md's "Error codes" table: add a row with its HTTP status, where it comes from, what it means and what a client should do (an environment variable's name belongs in the Configuration table instead)`);
    expect(missing).toEqual([]);

    const emittedCodes = new Set(emitted.map(([code]) => code));
    const stale = [...codes.keys()]
      .filter((code) => !emittedCodes.has(code))
      .map((code) => `${code} has a row in README.md's "Error codes" table, but no source under ${SOURCE_ROOTS.join(', ')} emits it any more: remove the row`);
    expect(stale).toEqual([]);
  });

  it('gives every code an HTTP status and what a client should do', async () => {
    const { codes } = catalogue(await readFile(join(repo, 'README.md'), 'utf8'));
    expect(codes.size).toBeGreaterThan(30);
    const incomplete = [...codes]
      .filter(([, row]) => !/\b[1-5]\d\d\b/.test(row.status) || row.advice.trim().length === 0)
      .map(([code]) => code);
    expect(incomplete).toEqual([]);
  });

  it('finds codes passed through helpers and constants, not only `code:` literals', async () => {
    // The scan's own check: codes that reach GraphQLError only through a helper's parameter.
    const literals = await literalsInSources();
    for (const code of ['MAX_DEPTH_EXCEEDED', 'BAD_CURSOR', 'INTERNAL_TOKEN_REPLAYED', 'SUBGRAPH_TIMEOUT', 'DATABASE_TIMEOUT']) {
      expect(literals.has(code), code).toBe(true);
    }
  });
});
