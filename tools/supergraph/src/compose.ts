import { readFile, rename, writeFile } from 'node:fs/promises';
import { composeServices } from '@apollo/composition';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import type { SupergraphConfig } from './supergraph-config.ts';

export interface CompositionProblem {
  /** The subgraphs the problem is in, when known. */
  subgraphs: string[];
  code: string;
  message: string;
}

export type CompositionResult =
  | { ok: true; supergraphSdl: string; hints: string[] }
  | { ok: false; errors: CompositionProblem[] };

export interface ComposeOptions {
  /** Subgraph name -> routing URL, e.g. the ephemeral ports of a test run. */
  routingUrls?: Record<string, string>;
}

/**
 * Composes the subgraphs of a supergraph config with Apollo's composition library,
 * the same algorithm rover and GraphOS use, and names the subgraph of every problem.
 */
export async function composeSupergraph(config: SupergraphConfig, options: ComposeOptions = {}): Promise<CompositionResult> {
  const problems: CompositionProblem[] = [];
  const services: { name: string; url: string; typeDefs: DocumentNode }[] = [];
  for (const subgraph of config.subgraphs) {
    let sdl: string;
    try {
      sdl = await readFile(subgraph.schemaFile, 'utf8');
    } catch (error) {
      problems.push({
        subgraphs: [subgraph.name],
        code: 'SCHEMA_FILE_UNREADABLE',
        message: `Cannot read ${subgraph.schemaFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      });
      continue;
    }
    try {
      services.push({ name: subgraph.name, url: options.routingUrls?.[subgraph.name] ?? subgraph.routingUrl, typeDefs: parse(sdl) });
    } catch (error) {
      const location = error instanceof GraphQLError && error.locations?.[0];
      problems.push({
        subgraphs: [subgraph.name],
        code: 'INVALID_GRAPHQL',
        message: `${subgraph.schemaFile}${location ? `:${location.line}:${location.column}` : ''}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  if (problems.length > 0) return { ok: false, errors: problems };

  const result = composeServices(services);
  if (result.errors) {
    const names = new Set(services.map((s) => s.name));
    return {
      ok: false,
      errors: result.errors.map((error) => ({
        subgraphs: subgraphsNamedIn(error.message, names),
        code: String(error.extensions.code ?? 'COMPOSITION_ERROR'),
        message: error.message,
      })),
    };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: result.hints.map((hint) => hint.toString()) };
}

/** Composition messages name subgraphs as `[name]` or `subgraph "name"`. */
function subgraphsNamedIn(message: string, names: Set<string>): string[] {
  const found = new Set<string>();
  for (const match of message.matchAll(/\[([a-z][a-z0-9_-]*)\]|subgraphs? "([^"]+)"/g)) {
    const name = match[1] ?? match[2];
    if (name && names.has(name)) found.add(name);
  }
  return [...found];
}

/** One line per problem, naming its subgraphs: `  [inventory] FIELD_TYPE_MISMATCH: ...`. */
export function formatCompositionErrors(errors: CompositionProblem[]): string {
  return errors
    .map((error) => `  [${error.subgraphs.length > 0 ? error.subgraphs.join(', ') : 'supergraph'}] ${error.code}: ${error.message}`)
    .join('\n');
}

export class CompositionError extends Error {
  override readonly name = 'CompositionError';
  constructor(readonly errors: CompositionProblem[]) {
    super(`Composition failed with ${errors.length} error(s):\n${formatCompositionErrors(errors)}`);
  }
}

/** Writes then renames, so a gateway polling the file never reads half of it. */
export async function writeSupergraphFile(path: string, supergraphSdl: string): Promise<void> {
  await writeFile(`${path}.tmp`, supergraphSdl);
  await rename(`${path}.tmp`, path);
}

/**
 * Composes the config's subgraphs into the supergraph file at `path` for a gateway to serve,
 * or throws a CompositionError listing every problem. Returns the supergraph's SDL.
 */
export async function composeSupergraphFile(config: SupergraphConfig, path: string, options: ComposeOptions = {}): Promise<string> {
  const composed = await composeSupergraph(config, options);
  if (!composed.ok) throw new CompositionError(composed.errors);
  await writeSupergraphFile(path, composed.supergraphSdl);
  return composed.supergraphSdl;
}
