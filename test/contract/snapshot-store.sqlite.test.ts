import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteSnapshotStore } from '../../src/infrastructure/snapshots/sqlite-snapshot-store.js';
import { snapshotStoreContract } from './snapshot-store.contract.js';

snapshotStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otp-snapshots-'));
  const file = join(dir, 'snapshots.sqlite');
  const dbs = [new Database(file)];
  return {
    subject: createSqliteSnapshotStore({ db: dbs[0]! }),
    reopen: async () => {
      const db = new Database(file);
      dbs.push(db);
      return createSqliteSnapshotStore({ db });
    },
    cleanup: async () => {
      for (const db of dbs) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
