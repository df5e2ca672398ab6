/**
 * Snapshots in table `snapshots` (requires `snapshotMigrations`), one row per stream. The state
 * is `json`, not `jsonb`: `json` keeps the exact text (key order, which the seal covers) and
 * takes every string JSON can carry (jsonb refuses `\u0000` and lone surrogates).
 */
import type pg from 'pg';
import type { Snapshot, SnapshotStore } from '../../application/ports.js';
import type { Migration } from './migrate.js';
import { prepared } from './prepared.js';

export const snapshotMigrations: readonly Migration[] = [
  {
    id: 'snapshots-001',
    sql: `
CREATE TABLE snapshots (
  stream TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  version TEXT NOT NULL,
  state JSON NOT NULL,
  seal TEXT,
  saved_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`,
  },
];

const loadSnapshot = prepared('load-snapshot', 'SELECT revision, event_id, version, state::text AS state, seal FROM snapshots WHERE stream = $1');

type Row = { revision: number; event_id: string; version: string; state: string; seal: string | null };

export const createPostgresSnapshotStore = ({ pool }: { readonly pool: pg.Pool }): SnapshotStore => ({
  load: async (stream) => {
    const { rows } = await pool.query<Row>(loadSnapshot([stream]));
    const row = rows[0];
    if (row === undefined) return undefined;
    const { state, seal, ...rest } = row;
    return { stream, ...rest, state: JSON.parse(state) as unknown, ...(seal === null ? {} : { seal }) };
  },
  save: async ({ stream, revision, event_id, version, state, seal }: Snapshot) => {
    await pool.query(
      `INSERT INTO snapshots (stream, revision, event_id, version, state, seal) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (stream) DO UPDATE SET revision = EXCLUDED.revision, event_id = EXCLUDED.event_id, version = EXCLUDED.version,
         state = EXCLUDED.state, seal = EXCLUDED.seal, saved_at = now()`,
      [stream, revision, event_id, version, JSON.stringify(state), seal ?? null],
    );
  },
});
