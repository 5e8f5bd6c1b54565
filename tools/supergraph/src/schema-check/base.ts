import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { composeSupergraph, formatCompositionErrors } from '../compose.ts';
import { readSupergraphConfig } from '../supergraph-config.ts';

const git = promisify(execFile);

/** What a schema check is about, with the exit code the CLI answers when it cannot be had. */
export class CheckInputError extends Error {
  override readonly name = 'CheckInputError';
  constructor(
    message: string,
    /** 64 usage (a bad ref), 66 a file that is not there, 1 a schema that does not compose. */
    readonly exitCode: 1 | 64 | 66,
  ) {
    super(message);
  }
}

export interface BaseSupergraph {
  sdl: string;
  description: string;
}

/** A supergraph file, e.g. the one the gateway serves (`gateway/supergraph.graphql`). */
export async function baseFromFile(path: string): Promise<BaseSupergraph> {
  try {
    return { sdl: await readFile(path, 'utf8'), description: path };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckInputError(`Cannot read the base supergraph ${path} (${code ?? String(error)}); pass --base <file> or --base-ref <git ref>.`, 66);
  }
}

/**
 * The supergraph composed from the subgraph schemas as they are at a git commit (`main`, the
 * merge base of a branch): what is deployed, so a branch that removes a field is compared with
 * the schema before it, even if the branch also recomposed its own supergraph file.
 */
export async function baseFromGitRef(ref: string, configPath: string): Promise<BaseSupergraph> {
  const cwd = dirname(configPath);
  const show = async (path: string) => {
    try {
      return (await git('git', ['show', `${ref}:${path}`], { cwd, maxBuffer: 64 * 2 ** 20 })).stdout;
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n')[0];
      throw new CheckInputError(`Cannot read ${path} at git ref "${ref}": ${stderr || String(error)}`, 64);
    }
  };
  let top: string;
  try {
    top = (await git('git', ['rev-parse', '--show-toplevel'], { cwd })).stdout.trim();
  } catch {
    throw new CheckInputError(`--base-ref needs a git checkout, and ${cwd} is not in one; pass --base <supergraph file> instead.`, 64);
  }
  const dir = await mkdtemp(join(tmpdir(), 'shop-schema-base-'));
  try {
    // The config and every schema it names, as of the ref, laid out as in the repository.
    const configAtRef = relative(top, configPath);
    const copy = async (path: string) => {
      const target = join(dir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, await show(path));
    };
    await copy(configAtRef);
    const config = await readSupergraphConfig(join(dir, configAtRef));
    for (const subgraph of config.subgraphs) await copy(relative(dir, subgraph.schemaFile));
    const composed = await composeSupergraph(config);
    if (!composed.ok) throw new CheckInputError(`The subgraphs at git ref "${ref}" do not compose:\n${formatCompositionErrors(composed.errors)}`, 1);
    return { sdl: composed.supergraphSdl, description: `the subgraphs at git ref ${ref} (composed)` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
