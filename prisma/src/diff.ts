// Computes migration SQL by diffing two Prisma schemas with the wasm schema engine.
//
// Why schema-to-schema: diffs against a live database or a migrations folder need the engine
// to introspect Postgres, which fails with this wasm/adapter pair ("Column type 'char' could
// not be deserialized"), and would need a shadow database anyway. Diffing the schema the
// previous migration was made from (kept as a snapshot next to it) against the current schema
// needs no database at all, so `db:migrate:create` works offline and without Postgres.
// Hand edits in migration.sql (CHECK constraints, data fixes) are invisible to the snapshot,
// so later diffs never try to undo them.
import { openOfflineSchemaEngine } from './engine.ts';

export interface SchemaDiff {
  /** The SQL script (Prisma's formatting, with `-- CreateTable` style headers). */
  sql: string;
  /** False when the two schemas describe the same database. */
  hasChanges: boolean;
}

/** SQL that takes a database from `from` (null = empty database) to `to`. */
export async function diffSchemas(from: string | null, to: string): Promise<SchemaDiff> {
  const engine = await openOfflineSchemaEngine();
  try {
    const result = await engine.diff({
      from: from === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: from }] },
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: to }] },
      script: true,
      // With exitCode set, the engine reports 2 for a non-empty diff: a reliable "has changes"
      // signal, unlike parsing the script's "-- This is an empty migration." comment.
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    return { sql: result.stdout ?? '', hasChanges: result.exitCode === 2 };
  } finally {
    engine.free();
  }
}
