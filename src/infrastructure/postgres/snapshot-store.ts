/** Snapshots in table `snapshots` (requires `snapshotMigrations`), one row per stream. */
import type pg from 'pg';
import type { Snapshot, SnapshotStore } from '../../application/ports.js';
import type { Migration } from './migrate.js';

export const snapshotMigrations: readonly Migration[] = [
  {
    id: 'snapshots-001',
    sql: `
CREATE TABLE snapshots (
  stream TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  version TEXT NOT NULL,
  state JSONB NOT NULL,
  saved_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`,
  },
];

type Row = { revision: number; version: string; state: unknown };

export const createPostgresSnapshotStore = ({ pool }: { readonly pool: pg.Pool }): SnapshotStore => ({
  load: async (stream) => {
    const { rows } = await pool.query<Row>('SELECT revision, version, state FROM snapshots WHERE stream = $1', [stream]);
    const row = rows[0];
    return row && { stream, revision: row.revision, version: row.version, state: row.state };
  },
  save: async ({ stream, revision, version, state }: Snapshot) => {
    // A later revision replaces what is stored; an earlier one (a slower writer) is dropped.
    await pool.query(
      `INSERT INTO snapshots (stream, revision, version, state) VALUES ($1, $2, $3, $4)
       ON CONFLICT (stream) DO UPDATE SET revision = EXCLUDED.revision, version = EXCLUDED.version, state = EXCLUDED.state, saved_at = now()
       WHERE EXCLUDED.revision > snapshots.revision`,
      [stream, revision, version, JSON.stringify(state)],
    );
  },
});
