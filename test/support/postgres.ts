/**
 * PostgreSQL for integration tests. Each suite gets its own schema in the test database, so
 * suites can run side by side and leave nothing behind. A missing server fails loudly: these
 * tests never skip themselves.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, type Migration } from '../../src/infrastructure/postgres/migrate.js';

export const testDatabaseUrl = (): string =>
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/otp_verify_test';

/** Creates the test database if it does not exist (CI creates it fresh). */
const ensureDatabase = async (url: string): Promise<void> => {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${admin.host} (${(error as Error).message}); start it, see README "Tests"`);
  }
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`).catch(() => undefined);
  } finally {
    await client.end();
  }
};

export type TestSchema = {
  /** A connection string whose sessions use only this schema. */
  readonly url: string;
  readonly schema: string;
  readonly drop: () => Promise<void>;
};

/**
 * `database`: another database beside the test database (created if missing), for tests that
 * must not share its advisory locks with the other suites (the schema migrations' lock is per
 * database, and every suite migrates its schemas under it).
 */
export const createTestSchema = async (database?: string): Promise<TestSchema> => {
  const where = new URL(testDatabaseUrl());
  if (database !== undefined) where.pathname = `/${database}`;
  const base = where.toString();
  await ensureDatabase(base);
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
};

/**
 * One schema for a whole test file, created and migrated with `migrations` on first use (the
 * file's tests keep apart by their own keys): `url` waits for it; `drop` (afterAll) removes it.
 */
export const sharedTestSchema = (migrations: readonly Migration[]) => {
  let schema: Promise<TestSchema> | undefined;
  const ready = (): Promise<TestSchema> =>
    (schema ??= createTestSchema().then(async (created) => {
      const pool = new pg.Pool({ connectionString: created.url, max: 1 });
      await migrate(pool, migrations).finally(() => pool.end());
      return created;
    }));
  return { url: async () => (await ready()).url, drop: async () => (await schema)?.drop() };
};
