// Loads Prisma's WebAssembly schema engine (@prisma/schema-engine-wasm) from plain Node.
//
// Why: Prisma's CLI wants to download a native schema engine binary before any `migrate`
// command, which fails offline / on air-gapped CI. The wasm build is on npm, so it installs
// with everything else, and it talks to Postgres through a driver adapter (@prisma/adapter-pg).
//
// The package is built for bundlers (`import * as wasm from "./schema_engine_bg.wasm"`), which
// Node cannot import without --experimental-wasm-modules. So we import the JS glue module
// (`schema_engine_bg.js`) by itself, instantiate the .wasm next to it by hand and wire the two
// together exactly like the package's own entry point does.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

export type { SchemaEngine };

// The root tsconfig's lib (ES2023, no DOM) has no WebAssembly types, and @types/node 20 does not
// add them; this is the one call we need.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

// The wasm module keeps global state in the glue module, so instantiate it once per process.
let initialised: Promise<void> | undefined;

function initWasm(): Promise<void> {
  initialised ??= (async () => {
    // createRequire rather than import.meta.resolve: vitest's module runner lacks the latter.
    const gluePath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const wasmPath = join(dirname(gluePath), 'schema_engine_bg.wasm');
    const bytes = await readFile(wasmPath);
    // The glue module's exports are the wasm module's imports, under the specifier the
    // bundler build uses.
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': withUnrefTimers(bg) });
    (bg as unknown as { __wbg_set_wasm: (exports: unknown) => void }).__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return initialised;
}

/**
 * The engine's timers (e.g. the 10 s timeout around acquiring Prisma's advisory lock) come
 * from a `setTimeout` import that it never clears (the glue has no clearTimeout), so every
 * migrate would keep the process alive ~10 s after the work is done. Unref'd timers still
 * fire while anything else is pending but no longer hold the process open.
 */
function withUnrefTimers(glue: object): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...glue };
  for (const [key, value] of Object.entries(imports)) {
    if (key.startsWith('__wbg_setTimeout_') && typeof value === 'function') {
      imports[key] = (...args: unknown[]) => {
        const timer = (value as (...a: unknown[]) => unknown)(...args);
        (timer as { unref?: () => void }).unref?.();
        return timer;
      };
    }
  }
  return imports;
}

export interface EngineOptions {
  /** Prisma schema files, as [path, content] (the engine reads the provider from them). */
  datamodels?: [string, string][];
  /** Receives the engine's log lines (JSON strings). Silent by default. */
  log?: (line: string) => void;
}

async function open(factory: SqlMigrationAwareDriverAdapterFactory, opts: EngineOptions): Promise<SchemaEngine> {
  await initWasm();
  const log = opts.log ?? (() => {});
  return bg.SchemaEngine.new({ datamodels: opts.datamodels }, log, bindMigrationAwareSqlAdapterFactory(factory));
}

export interface ConnectedSchemaEngine {
  engine: SchemaEngine;
  /** Frees the engine and closes its connection (which releases Prisma's advisory lock). */
  close(): Promise<void>;
}

/**
 * An engine connected to the database at `url` through @prisma/adapter-pg, over a pool we own
 * with exactly one connection. Why one: the engine takes Prisma's session-level advisory lock
 * (`pg_advisory_lock(72707369)`) with one query and never unlocks it (the native engine relies
 * on closing its connection). Behind a multi-connection pool the lock would land on an
 * arbitrary idle connection and outlive the run until the pool's idle timeout, making the
 * next migrate wait ~10 s. With a single connection, the lock and the migration share a
 * session, and `close()` ends it, releasing the lock at once.
 */
export async function openSchemaEngine(url: string, opts: EngineOptions = {}): Promise<ConnectedSchemaEngine> {
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'shop-db schema-engine' });
  try {
    const engine = await open(new PrismaPg(pool), opts);
    return {
      engine,
      close: async () => {
        engine.free();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/**
 * A stand-in database for operations that never touch one (schema-to-schema `diff`).
 * `SchemaEngine.new` connects eagerly and asks the server whether the `public` schema exists
 * and which version it runs; we answer that one probe (as a Postgres 17 server) and reject
 * every other statement, so a code path that did reach for a database would fail loudly
 * instead of silently diffing against nothing.
 */
function offlineAdapterFactory(): SqlMigrationAwareDriverAdapterFactory {
  const refuse = (what: string) => () =>
    Promise.reject(new Error(`offline schema engine: unexpected ${what} (this engine has no database)`));
  const adapter: SqlDriverAdapter = {
    provider: 'postgres',
    adapterName: '@shop/db-offline',
    queryRaw: async (query) => {
      if (query.sql.includes('server_version_num')) {
        return {
          columnNames: ['exists', 'version', 'numeric_version'],
          columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
          rows: [[true, 'PostgreSQL 17.0 (offline stand-in)', 170000]],
        };
      }
      return refuse(`query ${query.sql.slice(0, 80)}`)();
    },
    executeRaw: refuse('executeRaw'),
    executeScript: refuse('executeScript'),
    startTransaction: refuse('startTransaction'),
    getConnectionInfo: () => ({ schemaName: 'public', supportsRelationJoins: true }),
    dispose: async () => {},
  };
  return {
    provider: 'postgres',
    adapterName: '@shop/db-offline',
    connect: async () => adapter,
    connectToShadowDb: async () => adapter,
  };
}

/** An engine for schema-to-schema `diff`: needs no database and no network. */
export function openOfflineSchemaEngine(opts: EngineOptions = {}): Promise<SchemaEngine> {
  return open(offlineAdapterFactory(), opts);
}
