import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMigration } from '../src/create-migration.ts';
import { ensureDatabase } from '../src/ensure-database.ts';
import { migrate } from '../src/migrate.ts';
import { listMigrationNames } from '../src/migrations.ts';
import { migrationsDir, schemaPath } from '../src/subgraphs.ts';
import { dropAll, uniqueDatabaseUrl, queryRows } from './helpers.ts';

const created: string[] = [];
const tempDirs: string[] = [];
afterAll(async () => {
  await dropAll(created);
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function freshDatabase(prefix: string): Promise<string> {
  const url = uniqueDatabaseUrl(prefix);
  created.push(url);
  await ensureDatabase(url);
  return url;
}

describe('ensureDatabase', () => {
  it('creates a missing database once, even when called concurrently', async () => {
    const url = uniqueDatabaseUrl('shopdb_ensure');
    created.push(url);
    const results = await Promise.all(Array.from({ length: 5 }, () => ensureDatabase(url)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await ensureDatabase(url)).toBe(false);
    expect(await queryRows(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});

describe('migrate', () => {
  it('applies pending migrations once and records them as prisma migrate deploy does', async () => {
    const url = await freshDatabase('shopdb_migrate');
    const names = await listMigrationNames(migrationsDir('reviews'));
    expect(names.length).toBeGreaterThan(0);

    expect(await migrate('reviews', url)).toEqual(names);
    expect(await migrate('reviews', url)).toEqual([]);

    const rows = await queryRows<{
      migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null;
      applied_steps_count: number; logs: string | null;
    }>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at');
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows) {
      const sql = await readFile(path.join(migrationsDir('reviews'), row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }

    // The hand-written CHECK constraint of the init migration is in force.
    await expect(
      queryRows(url, `INSERT INTO reviews (body, rating, author_id, product_upc) VALUES ('x', 6, 1, 'u')`),
    ).rejects.toThrow(/reviews_rating_check/);
  });

  it('is safe when two migrators start at once', async () => {
    const url = await freshDatabase('shopdb_race');
    // Different URL strings for the same database bypass the in-process queue, so the two
    // runs really race and only the advisory lock keeps them apart (as two processes would).
    const [a, b] = await Promise.all([
      migrate('orders', url),
      migrate('orders', url + '?application_name=second_migrator'),
    ]);
    const names = await listMigrationNames(migrationsDir('orders'));
    expect([...a, ...b].sort()).toEqual(names);
    const rows = await queryRows<{ n: string }>(url, 'SELECT count(*) AS n FROM _prisma_migrations');
    expect(Number(rows[0]!.n)).toBe(names.length);
    await expect(
      queryRows(url, `INSERT INTO orders (id, user_id, total, idempotency_key, request_hash) VALUES (1, 1, 0, 'k', 'h');
                  INSERT INTO order_lines (order_id, product_upc, quantity, unit_price) VALUES (1, 'u', 0, 1)`),
    ).rejects.toThrow(/order_lines_quantity_check/);
  });

  it('leaves no lock or connection behind', async () => {
    const url = await freshDatabase('shopdb_locks');
    await migrate('accounts', url);
    const locks = await queryRows(url, `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    expect(locks).toEqual([]);
    const sessions = await queryRows<{ n: string }>(url, 'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    expect(Number(sessions[0]!.n)).toBe(0);
  });
});

describe('createMigration', () => {
  it('diffs from the last snapshot, reports no changes, and its output migrates', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shopdb-create-'));
    tempDirs.push(dir);
    const schemaFile = path.join(dir, 'schema.prisma');
    const migrations = path.join(dir, 'migrations');
    await cp(schemaPath('reviews'), schemaFile);

    const first = await createMigration('reviews', 'init', { schemaFile, migrationsDir: migrations, now: new Date(Date.UTC(2025, 0, 1)) });
    expect(first).toMatchObject({ created: true, folder: '20250101000000_init' });
    expect(await readFile(path.join(migrations, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');

    expect(await createMigration('reviews', 'again', { schemaFile, migrationsDir: migrations })).toEqual({
      created: false,
      reason: 'no changes',
    });

    const schema = await readFile(schemaFile, 'utf8');
    await writeFile(schemaFile, schema.replace('  body       String', '  body       String\n  title      String?'));
    const second = await createMigration('reviews', 'Add review title!', { schemaFile, migrationsDir: migrations, now: new Date(Date.UTC(2025, 0, 2)) });
    expect(second).toMatchObject({ created: true, folder: '20250102000000_add_review_title' });
    if (!second.created) throw new Error('unreachable');
    expect(second.sql).toMatch(/ALTER TABLE "reviews" ADD COLUMN\s+"title" TEXT/);
    expect(second.sql).not.toMatch(/CREATE TABLE/);

    const url = await freshDatabase('shopdb_create');
    expect(await migrate('reviews', url, { migrationsDir: migrations })).toEqual([
      '20250101000000_init',
      '20250102000000_add_review_title',
    ]);
    expect(await queryRows(url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'reviews' AND column_name = 'title'`)).toHaveLength(1);
  });
});
