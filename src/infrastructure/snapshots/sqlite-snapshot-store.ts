/** Snapshots in table `snapshots` of a SQLite database the caller owns (and closes). */
import type { Database } from 'better-sqlite3';
import type { Snapshot, SnapshotStore } from '../../application/ports.js';

const SCHEMA = `CREATE TABLE IF NOT EXISTS snapshots (
  stream TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  version TEXT NOT NULL,
  state TEXT NOT NULL,
  saved_at TEXT NOT NULL
)`;

type Row = { revision: number; version: string; state: string };

export const createSqliteSnapshotStore = ({ db }: { readonly db: Database }): SnapshotStore => {
  db.exec(SCHEMA);
  const select = db.prepare<[string], Row>('SELECT revision, version, state FROM snapshots WHERE stream = ?');
  // A later revision replaces what is stored; an earlier one (a slower writer) is dropped.
  const upsert = db.prepare<[string, number, string, string, string]>(
    `INSERT INTO snapshots (stream, revision, version, state, saved_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, version = excluded.version, state = excluded.state, saved_at = excluded.saved_at
     WHERE excluded.revision > snapshots.revision`,
  );
  return {
    load: async (stream) => {
      const row = select.get(stream);
      return row && { stream, revision: row.revision, version: row.version, state: JSON.parse(row.state) as unknown };
    },
    save: async ({ stream, revision, version, state }: Snapshot) => {
      upsert.run(stream, revision, version, JSON.stringify(state), new Date().toISOString());
    },
  };
};
