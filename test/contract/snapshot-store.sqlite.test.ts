import { describe, expect, it } from '@jest/globals';
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

describe('sqlite snapshot file', () => {
  it('starts afresh from a table of another layout (derived data, not migrated)', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE snapshots (stream TEXT PRIMARY KEY, revision INTEGER NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL, saved_at TEXT NOT NULL)');
    db.prepare("INSERT INTO snapshots VALUES ('s', 49, 'v', '{}', 'then')").run();
    const store = createSqliteSnapshotStore({ db });
    expect(await store.load('s')).toBeUndefined();
    await store.save({ stream: 's', revision: 99, event_id: 'e', version: 'v', state: { n: 1 } });
    expect(await createSqliteSnapshotStore({ db }).load('s')).toMatchObject({ revision: 99 }); // same layout now: kept
    db.close();
  });
});
