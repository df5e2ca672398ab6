/**
 * Snapshots in table `snapshots` of a SQLite database of their own, which the caller owns (and
 * closes). Snapshots are derived data: a table of another layout (`user_version`) is dropped
 * and started afresh rather than migrated.
 */
import type { Database } from 'better-sqlite3';
import type { Snapshot, SnapshotStore } from '../../application/ports.js';

const LAYOUT = 1;

const SCHEMA = `CREATE TABLE snapshots (
  stream TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  version TEXT NOT NULL,
  state TEXT NOT NULL,
  seal TEXT,
  saved_at TEXT NOT NULL
)`;

type Row = { revision: number; event_id: string; version: string; state: string; seal: string | null };

export const createSqliteSnapshotStore = ({ db }: { readonly db: Database }): SnapshotStore => {
  if (db.pragma('user_version', { simple: true }) !== LAYOUT) {
    db.transaction(() => {
      db.exec('DROP TABLE IF EXISTS snapshots');
      db.exec(SCHEMA);
      db.pragma(`user_version = ${LAYOUT}`);
    })();
  }
  const select = db.prepare<[string], Row>('SELECT revision, event_id, version, state, seal FROM snapshots WHERE stream = ?');
  const upsert = db.prepare<[string, number, string, string, string, string | null, string]>(
    `INSERT INTO snapshots (stream, revision, event_id, version, state, seal, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, event_id = excluded.event_id, version = excluded.version,
       state = excluded.state, seal = excluded.seal, saved_at = excluded.saved_at`,
  );
  return {
    load: async (stream) => {
      const row = select.get(stream);
      if (row === undefined) return undefined;
      const { state, seal, ...rest } = row;
      return { stream, ...rest, state: JSON.parse(state) as unknown, ...(seal === null ? {} : { seal }) };
    },
    save: async ({ stream, revision, event_id, version, state, seal }: Snapshot) => {
      upsert.run(stream, revision, event_id, version, JSON.stringify(state), seal ?? null, new Date().toISOString());
    },
  };
};
