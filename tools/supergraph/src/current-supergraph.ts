import { readFile } from 'node:fs/promises';
import { composeSupergraph } from './compose.ts';
import { readSupergraphConfig } from './supergraph-config.ts';

export class SupergraphUnavailableError extends Error {
  override readonly name = 'SupergraphUnavailableError';
  readonly code = 'SUPERGRAPH_UNAVAILABLE';
}

/**
 * The supergraph the gateway serves: the composed file if there is one, else a fresh
 * composition of supergraph.yaml (a checkout that never ran `npm run compose`).
 */
export async function readCurrentSupergraph(supergraphPath: string, configPath: string): Promise<{ sdl: string; source: string }> {
  try {
    return { sdl: await readFile(supergraphPath, 'utf8'), source: supergraphPath };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const result = await composeSupergraph(await readSupergraphConfig(configPath));
  if (!result.ok) {
    const problems = result.errors.map((e) => `  - [${e.subgraphs.join(', ') || 'supergraph'}] ${e.code}: ${e.message}`).join('\n');
    throw new SupergraphUnavailableError(`${supergraphPath} does not exist and ${configPath} does not compose:\n${problems}`);
  }
  return { sdl: result.supergraphSdl, source: `${configPath} (composed; ${supergraphPath} does not exist)` };
}
