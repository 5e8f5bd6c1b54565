import { randomBytes } from 'node:crypto';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { PersistedError } from './errors.ts';
import { buildSnapshot, clientNameSchema, clientRecordSchema, manifestNameSchema, operationsSchema, parseStored, validated, validatePublish } from './records.ts';
import type { ClientRecord, PersistedOperation, PersistedStore, PublishedManifest } from './types.ts';

const clientsFileSchema = z.record(clientNameSchema, clientRecordSchema);
/** Manifests are kept in Apollo's own format, so a stored file is itself a valid manifest. */
const manifestFileSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: operationsSchema,
});

const WATCH_INTERVAL_MS = 500;

/**
 * The store for one machine without Redis:
 *   dir/clients.json                          { "<client>": ClientRecord }
 *   dir/manifests/<client>/<manifest>.json    an Apollo persisted query manifest
 *   dir/version                               a counter bumped after every change
 * Every file is replaced by write-then-rename, so a reader never sees half a file. Writers
 * are not locked against each other: this is for a single operator publishing by hand.
 */
export function createFileStore(dir: string): PersistedStore {
  const root = validated(z.string().min(1, 'expected a directory path'), dir, 'INVALID_STORE_OPTIONS', 'persisted store directory');
  const paths = {
    clients: join(root, 'clients.json'),
    manifests: join(root, 'manifests'),
    version: join(root, 'version'),
  };
  const manifestPath = (client: string, manifest: string) => join(paths.manifests, client, `${manifest}.json`);
  const stops = new Set<() => void>();
  /** The version file as the last `load` saw it, so a change between that load and `watch` is not missed. */
  let loadedVersion: string | null | undefined;

  async function readOptional(path: string): Promise<string | null> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async function writeAtomic(path: string, content: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    // Hidden and not ending in .json, so a concurrent load never mistakes it for a manifest.
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, content);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async function readClients(): Promise<Record<string, ClientRecord>> {
    const text = await readOptional(paths.clients);
    return text === null ? {} : parseStored(clientsFileSchema, text, paths.clients);
  }

  /** Written last: watchers react to this file, after the data it announces is in place. */
  async function bumpVersion(): Promise<void> {
    const current = Number.parseInt((await readOptional(paths.version)) ?? '0', 10);
    await writeAtomic(paths.version, `${(Number.isFinite(current) ? current : 0) + 1}\n`);
  }

  async function listManifests(clientNames: Iterable<string>): Promise<PublishedManifest[]> {
    const manifests: PublishedManifest[] = [];
    for (const client of clientNames) {
      let files: string[];
      try {
        files = await readdir(join(paths.manifests, client));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      for (const file of files.filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort()) {
        const manifest = file.slice(0, -'.json'.length);
        if (!manifestNameSchema.safeParse(manifest).success) continue; // not written by this store
        const path = manifestPath(client, manifest);
        const text = await readOptional(path);
        if (text === null) continue; // replaced between readdir and read; the next reload sees it
        manifests.push({ client, manifest, operations: parseStored(manifestFileSchema, text, path).operations });
      }
    }
    return manifests;
  }

  return {
    async load() {
      // Read before the data: if a change lands in between, the version read here is older and watch reports it.
      loadedVersion = await readOptional(paths.version);
      const clients = await readClients();
      return buildSnapshot(Object.values(clients), await listManifests(Object.keys(clients)));
    },

    async putClient(client: ClientRecord) {
      const record = validated(clientRecordSchema, client, 'INVALID_CLIENT', 'client record');
      const clients = await readClients();
      clients[record.name] = record;
      await writeAtomic(paths.clients, `${JSON.stringify(clients, null, 2)}\n`);
      await bumpVersion();
    },

    async publishManifest(clientName: string, manifestName: string, operations: PersistedOperation[]) {
      const input = validatePublish(clientName, manifestName, operations);
      if (!(input.client in (await readClients()))) {
        throw new PersistedError('UNKNOWN_CLIENT', `No client named "${input.client}"; create it first with \`npm run pq -- clients add ${input.client}\`.`);
      }
      const file = { format: 'apollo-persisted-query-manifest', version: 1, operations: input.operations };
      await writeAtomic(manifestPath(input.client, input.manifest), `${JSON.stringify(file, null, 2)}\n`);
      await bumpVersion();
    },

    async listManifests() {
      return listManifests(Object.keys(await readClients()));
    },

    watch(onChange) {
      // Rename gives the version file a new inode and mtime; either differing means a change,
      // even when two writers raced and wrote the same number.
      const listener = (current: Stats, previous: Stats) => {
        if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino) onChange();
      };
      watchFile(paths.version, { interval: WATCH_INTERVAL_MS, persistent: false }, listener);
      if (loadedVersion !== undefined) {
        const baseline = loadedVersion;
        readOptional(paths.version).then(
          (version) => version !== baseline && stops.has(stop) && onChange(),
          () => {}, // unreadable now: the file watcher reports it once it changes
        );
      }
      const stop = () => {
        unwatchFile(paths.version, listener);
        stops.delete(stop);
      };
      stops.add(stop);
      return stop;
    },

    async close() {
      for (const stop of [...stops]) stop();
    },
  };
}
