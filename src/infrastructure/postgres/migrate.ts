/**
 * Schema migrations, applied at start by every process. An advisory lock serializes
 * processes starting together: the first applies what is missing, the others then find
 * nothing to do. Each migration runs in its own transaction with its bookkeeping row.
 */
import type pg from 'pg';

export type Migration = { readonly id: string; readonly sql: string };

// Any fixed 64-bit number shared by all processes of this service.
export const MIGRATION_LOCK = 7_420_001;

export const migrate = async (pool: pg.Pool, migrations: readonly Migration[]): Promise<readonly string[]> => {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
        await client.query('COMMIT');
        applied.push(migration.id);
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${migration.id} failed: ${(error as Error).message}`, { cause: error });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
};
