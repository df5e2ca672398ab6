import { afterEach, describe, expect, it } from '@jest/globals';
import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteDecoyStore } from '../../src/infrastructure/abuse/sqlite-decoy-store.js';
import { decoyStoreContract } from './decoy-store.contract.js';
import { fakeClock } from '../support/clock.js';

decoyStoreContract('sqlite', async (capacity) => {
  const db = new Sqlite(':memory:');
  const subject = createSqliteDecoyStore({ db, capacity, clock: fakeClock().now });
  return { subject, cleanup: async () => void (await subject.close(), db.close()) };
});

describe('sqlite decoy store', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const counts = { failures: 3, locked_until: null, recent_failures: ['2030-01-01T00:00:00.000Z'] };

  it("keeps a name's counts across a restart, and the next write still compares with what was read", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'decoys-'));
    dirs.push(dir);
    const clock = fakeClock();
    const first = new Sqlite(join(dir, 'abuse.sqlite'));
    const before = createSqliteDecoyStore({ db: first, capacity: 10, clock: clock.now });
    expect((await before.write('app', 'ghost', await before.read('app', 'ghost'), counts, 'w1')).written).toBe(true);
    const stale = await before.read('app', 'ghost');
    await before.close();
    first.close();

    const second = new Sqlite(join(dir, 'abuse.sqlite'));
    const after = createSqliteDecoyStore({ db: second, capacity: 10, clock: clock.now });
    try {
      expect(await after.read('app', 'ghost')).toMatchObject({ counts, writer: 'w1' });
      const read = await after.read('app', 'ghost');
      expect((await after.write('app', 'ghost', read, { ...counts, failures: 4 }, 'w2')).written).toBe(true);
      // A write decided on what was read before the last one is refused.
      expect((await after.write('app', 'ghost', stale, { ...counts, failures: 9 }, 'w3')).written).toBe(false);
      expect((await after.read('app', 'ghost')).counts?.failures).toBe(4);
    } finally {
      await after.close();
      second.close();
    }
  });

  it('forgets the least recently written names past the capacity, and deletes apps not written for 30 days', async () => {
    const db = new Sqlite(':memory:');
    const clock = fakeClock();
    const store = createSqliteDecoyStore({ db, capacity: 2, clock: clock.now });
    try {
      const fail = async (app: string, name: string) => store.write(app, name, await store.read(app, name), counts, 'w');
      await fail('busy', 'a');
      await fail('busy', 'b');
      expect(await fail('busy', 'c')).toEqual({ written: true, forgot: 1 });
      expect((await store.read('busy', 'a')).counts).toBeNull();
      clock.advance(20 * 86_400_000);
      await fail('recent', 'x');
      clock.advance(11 * 86_400_000);
      expect(await store.sweep()).toBe(1);
      expect((await store.read('busy', 'c')).counts).toBeNull();
      expect((await store.read('recent', 'x')).counts).not.toBeNull();
    } finally {
      await store.close();
      db.close();
    }
  });

  it('reads an undecodable value as no counts, and replaces it on the next write', async () => {
    const db = new Sqlite(':memory:');
    const store = createSqliteDecoyStore({ db, capacity: 5, clock: fakeClock().now });
    try {
      db.prepare("INSERT INTO decoy_names (app_id, name, value, seq) VALUES ('app', 'odd', 'not json', 1)").run();
      const read = await store.read('app', 'odd');
      expect(read.counts).toBeNull();
      expect((await store.write('app', 'odd', read, counts, 'w')).written).toBe(true);
      expect((await store.read('app', 'odd')).counts).toEqual(counts);
    } finally {
      await store.close();
      db.close();
    }
  });
});
