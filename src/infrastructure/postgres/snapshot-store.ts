/**
 * Snapshots in table `snapshots` (requires `snapshotMigrations`), one row per stream. The state
 * is `json`, not `jsonb`: `json` keeps the exact text (key order, which the seal covers) and
 * takes every string JSON can carry (jsonb refuses `\u0000` and lone surrogates).
 */
import type pg from 'pg';
import type { Snapshot, SnapshotStore } from '../../application/ports.js';
import type { Migration } from './migrate.js';
import { createGrouped, type GroupOptions } from './grouped.js';
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

const SNAPSHOT_COLUMNS = 'revision, event_id, version, state::text AS state, seal';
const loadSnapshot = prepared('load-snapshot', `SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE stream = $1`);
/**
 * Answers tagged with the position of their stream in $1 (from 1), so callers are matched by
 * position, not by name. One primary-key look-up per stream, whatever the table's size was when
 * the connection cached its plan (`OFFSET 0`: see SELECT_STREAMS in event-store-schema.ts).
 */
const loadSnapshots = prepared(
  'load-snapshots',
  `SELECT r.i::int AS request, s.* FROM unnest($1::text[]) WITH ORDINALITY AS r(stream, i)
   CROSS JOIN LATERAL (SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE snapshots.stream = r.stream OFFSET 0) s`,
);

type Row = { revision: number; event_id: string; version: string; state: string; seal: string | null };

export type PostgresSnapshotStore = SnapshotStore & {
  readonly stats: () => { asks: number; statements: number };
  /** Refuses new loads and resolves once no grouped load is queued or running: call it before the pool ends. */
  readonly close: () => Promise<void>;
};

const toSnapshot = (stream: string, { state, seal, ...rest }: Row): Snapshot => ({ stream, ...rest, state: JSON.parse(state) as unknown, ...(seal === null ? {} : { seal }) });

/** Loads of concurrent cold reads go together (grouped.ts): one statement for many streams. */
export const createPostgresSnapshotStore = ({ pool, group }: { readonly pool: pg.Pool; readonly group?: GroupOptions }): PostgresSnapshotStore => {
  const loads = createGrouped<string, Row | undefined>(async (streams) => {
    if (streams.length === 1) return [(await pool.query<Row>(loadSnapshot([streams[0]]))).rows[0]];
    const { rows } = await pool.query<Row & { request: number }>(loadSnapshots([streams]));
    const results: (Row | undefined)[] = streams.map(() => undefined);
    for (const { request, ...row } of rows) results[request - 1] = row;
    return results;
  }, { spanName: 'grouped snapshot load', ...group });
  let closed = false;
  return {
    load: async (stream) => {
      if (closed) throw new Error('Snapshot store is closed');
      // No stream can hold NUL (appends refuse it), and in a group it would fail the others' loads.
      if (stream.includes('\u0000')) return undefined;
      const row = await loads.get(stream);
      return row === undefined ? undefined : toSnapshot(stream, row);
    },
    save: async ({ stream, revision, event_id, version, state, seal }: Snapshot) => {
      await pool.query(
        `INSERT INTO snapshots (stream, revision, event_id, version, state, seal) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (stream) DO UPDATE SET revision = EXCLUDED.revision, event_id = EXCLUDED.event_id, version = EXCLUDED.version,
           state = EXCLUDED.state, seal = EXCLUDED.seal, saved_at = now()`,
        [stream, revision, event_id, version, JSON.stringify(state), seal ?? null],
      );
    },
    stats: loads.stats,
    close: async () => {
      closed = true;
      await loads.drained();
    },
  };
};
