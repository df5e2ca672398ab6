/**
 * The unknown-user decoy's counts in SQLite (tables `decoy_names` and `decoy_apps` of the
 * embedded default's `abuse.sqlite`), so they outlive a restart as a known user's failures do
 * (they are events in its stream). In process, a restart forgot them: a name failed once before
 * it then answered `attempts_remaining` one more than a known user failed as often, or a lock-out
 * gone where a known user's held, telling the two apart.
 *
 * The PostgreSQL store's tables and steps (`postgres/decoy-store.ts`) in one transaction: compare
 * the name's stored value with the one read, store the new one stamped with the app's next
 * sequence number, forget the app's least recently written names past `capacity` (at most 100 a
 * write). The values are Redis's (`decoy-codec.ts`). An app's names go 30 days after its last
 * write: swept every hour.
 */
import type { Database } from 'better-sqlite3';
import type { Clock, DecoyRead, DecoyStore, DecoyWrite, Logger } from '../../application/ports.js';
import { decodeDecoy, encodeDecoy } from './decoy-codec.js';
import { sweptEvery, type Swept } from './periodic.js';

/** How many of an app's names one write forgets at most. */
const FORGET_AT_MOST = 100;
const EXPIRE_AFTER_MS = 30 * 86_400_000;
const SWEEP_EVERY_MS = 3_600_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS decoy_apps (
  app_id TEXT PRIMARY KEY,
  names INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  written_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decoy_names (
  app_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (app_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decoy_names_order ON decoy_names (app_id, seq);`;

/** `sweep` deletes the apps (and their names) not written for 30 days (also done every hour). */
export type SqliteDecoyStore = DecoyStore & Swept;

export const createSqliteDecoyStore = ({
  db,
  capacity,
  clock,
  logger,
}: {
  readonly db: Database;
  /** Names kept per app. */
  readonly capacity: number;
  readonly clock: Clock;
  readonly logger?: Logger;
}): SqliteDecoyStore => {
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  db.exec(SCHEMA);
  const readName = db.prepare<[string, string], { value: string }>('SELECT value FROM decoy_names WHERE app_id = ? AND name = ?');
  const readApp = db.prepare<[string], { names: number; seq: number }>('SELECT names, seq FROM decoy_apps WHERE app_id = ?');
  const keepName = db.prepare<[string, string, string, number]>(
    'INSERT INTO decoy_names (app_id, name, value, seq) VALUES (?, ?, ?, ?) ON CONFLICT (app_id, name) DO UPDATE SET value = excluded.value, seq = excluded.seq',
  );
  const keepApp = db.prepare<[string, number, number, number]>(
    'INSERT INTO decoy_apps (app_id, names, seq, written_at) VALUES (?, ?, ?, ?) ON CONFLICT (app_id) DO UPDATE SET names = excluded.names, seq = excluded.seq, written_at = excluded.written_at',
  );
  // The name just written has the app's newest number: never among the oldest.
  const forgetOldest = db.prepare<[string, string, number]>(
    'DELETE FROM decoy_names WHERE app_id = ? AND name IN (SELECT name FROM decoy_names WHERE app_id = ? ORDER BY seq LIMIT ?)',
  );
  const staleApps = db.prepare<[number], { app_id: string }>('SELECT app_id FROM decoy_apps WHERE written_at < ?');
  const dropNames = db.prepare<[string]>('DELETE FROM decoy_names WHERE app_id = ?');
  const dropApp = db.prepare<[string]>('DELETE FROM decoy_apps WHERE app_id = ?');

  const write = db.transaction((appId: string, name: string, before: string | null, value: string, now: number): DecoyWrite => {
    const current = readName.get(appId, name)?.value ?? null;
    if (current !== before) return { written: false, forgot: 0 };
    const app = readApp.get(appId) ?? { names: 0, seq: 0 };
    const seq = app.seq + 1;
    keepName.run(appId, name, value, seq);
    let names = app.names + (current === null ? 1 : 0);
    let forgot = 0;
    if (names > capacity) {
      forgot = forgetOldest.run(appId, appId, Math.min(names - capacity, FORGET_AT_MOST)).changes;
      names -= forgot;
    }
    keepApp.run(appId, names, seq, now);
    return { written: true, forgot };
  });

  const sweep = db.transaction((now: number): number => {
    const stale = staleApps.all(now - EXPIRE_AFTER_MS);
    for (const { app_id } of stale) {
      dropNames.run(app_id);
      dropApp.run(app_id);
    }
    return stale.length;
  });

  return {
    read: async (appId, id): Promise<DecoyRead> => {
      const raw = readName.get(appId, id)?.value ?? null;
      return raw === null ? { counts: null, writer: null, version: null } : { ...decodeDecoy(raw), version: raw };
    },
    write: async (appId, id, read, counts, writer) => {
      // Read from another store: decide again on this one's counts.
      if (read.version !== null && typeof read.version !== 'string') return { written: false, forgot: 0 };
      return write(appId, id, read.version, encodeDecoy(counts, writer), clock().getTime());
    },
    ...sweptEvery(async () => sweep(clock().getTime()), SWEEP_EVERY_MS, 'decoy sweep', logger),
  };
};
