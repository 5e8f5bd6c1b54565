import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const subgraphEntry = z.object({
  routing_url: z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'routing_url must be an http(s) URL'),
  schema: z.object({ file: z.string().min(1, 'schema.file must name a file') }, {
    message: 'schema must be { file: <path> } (introspection and graph refs are not supported here)',
  }),
});

const supergraphYaml = z.object({
  federation_version: z
    .union([z.string(), z.number()])
    .transform(String)
    .refine((v) => /^=?2(\.\d+){0,2}$/.test(v), 'federation_version must be Federation 2, e.g. "=2.7.0"'),
  subgraphs: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'subgraph names are lower case letters, digits, - and _'), subgraphEntry)
    .refine((s) => Object.keys(s).length > 0, 'at least one subgraph is needed'),
});

export interface SubgraphSource {
  name: string;
  routingUrl: string;
  /** Absolute path of the subgraph's SDL file. */
  schemaFile: string;
}

export interface SupergraphConfig {
  federationVersion: string;
  subgraphs: SubgraphSource[];
}

export class SupergraphConfigError extends Error {
  override readonly name = 'SupergraphConfigError';
}

/** Reads rover's supergraph.yaml; schema paths are relative to the file, as rover has them. */
export async function readSupergraphConfig(path: string): Promise<SupergraphConfig> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new SupergraphConfigError(`Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parsed = supergraphYaml.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new SupergraphConfigError(`Invalid supergraph config ${path}:\n${problems}`);
  }
  const base = dirname(path);
  return {
    federationVersion: parsed.data.federation_version,
    subgraphs: Object.entries(parsed.data.subgraphs).map(([name, entry]) => ({
      name,
      routingUrl: entry.routing_url,
      schemaFile: resolve(base, entry.schema.file),
    })),
  };
}
