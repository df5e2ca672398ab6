import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WrongExpectedRevision } from '../../src/application/ports.js';
import { createSqliteEventStore } from '../../src/infrastructure/event-store/sqlite-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'otp-events-'));

eventStoreContract('sqlite', async () => {
  const dir = await tempDir();
  const subject = createSqliteEventStore({ filename: join(dir, 'events.db') });
  return {
    subject,
    cleanup: async () => {
      await subject.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite event store on disk', () => {
  let dir: string;
  let filename: string;
  beforeEach(async () => {
    dir = await tempDir();
    filename = join(dir, 'nested', 'deeper', 'events.db');
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('creates the directory, uses WAL, and keeps everything across close and reopen', async () => {
    const first = createSqliteEventStore({ filename });
    await first.append('a', [{ type: 'One', data: { n: 1 }, metadata: { actor: 'x' } }], 'no_stream');
    await first.append('b', [{ type: 'Two', data: { n: 2 } }, { type: 'Three', data: { n: 3 } }], 'no_stream');
    await first.append('a', [{ type: 'Four', data: { n: 4 } }], 0);
    const before = await first.readAll(0, 100);
    await first.close();

    const raw = new Database(filename, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();

    const second = createSqliteEventStore({ filename });
    try {
      expect(await second.readAll(0, 100)).toEqual(before);
      expect((await second.readStream('a')).map((e) => e.type)).toEqual(['One', 'Four']);
      expect(await second.headPosition()).toBe(4);
      await expect(second.append('a', [{ type: 'Stale', data: {} }], 0)).rejects.toBeInstanceOf(WrongExpectedRevision);
      expect(await second.append('a', [{ type: 'Five', data: {} }], 1)).toEqual({ revision: 2, position: 5 });
    } finally {
      await second.close();
    }
  });

  it('stays consistent when two connections append to the same file', async () => {
    const one = createSqliteEventStore({ filename });
    const two = createSqliteEventStore({ filename });
    try {
      await one.append('s', [{ type: 'A', data: {} }], 'no_stream');
      await expect(two.append('s', [{ type: 'B', data: {} }], 'no_stream')).rejects.toMatchObject({ actual: 0 });
      expect(await two.append('s', [{ type: 'B', data: {} }], 0)).toEqual({ revision: 1, position: 2 });
      expect((await one.readStream('s')).map((e) => e.type)).toEqual(['A', 'B']);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('rejects use after close', async () => {
    const store = createSqliteEventStore({ filename });
    await store.close();
    await expect(store.append('s', [{ type: 'A', data: {} }], 'any')).rejects.toThrow();
  });
});
