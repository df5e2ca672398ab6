/**
 * Event store on one SQLite file. Single-process by design: subscribers are woken in-process
 * after each commit, so events appended by another process are only delivered here after this
 * process's next own append or restart. Appends from several connections stay correct (IMMEDIATE
 * transactions plus UNIQUE(stream, revision)), they are just not pushed to other processes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { WrongExpectedRevision, type AppendResult, type Clock, type ExpectedRevision, type NewEvent } from '../../application/ports.js';
import { checkExpectedRevision, clampLimit, fromRow, toRow, type EventRow } from './event-row.js';
import { fromRevisionOf, limitOf } from './read-stream-options.js';
import { createSubscriptionHub, type EmbeddedEventStore, type RowsBelowFirst } from './subscription.js';

export type SqliteEventStoreOptions = {
  readonly filename: string;
  readonly clock?: Clock;
  /** How long a writer waits for another connection's lock before failing (default 5 s). */
  readonly busyTimeoutMs?: number;
  /** Opens an existing log for reading only (the `audit` command): no schema, no writes. */
  readonly readonly?: boolean;
};

const SCHEMA = `CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  UNIQUE (stream, revision)
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'the event log is append-only (UPDATE refused)'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'the event log is append-only (DELETE refused)'); END;`;

type StreamTail = { readonly revision: number; readonly position: number };

export const createSqliteEventStore = (options: SqliteEventStoreOptions): EmbeddedEventStore & { readonly readBelowFirst: RowsBelowFirst } => {
  const clock = options.clock ?? (() => new Date());
  const readonly = options.readonly === true;
  if (options.filename !== ':memory:' && !readonly) mkdirSync(dirname(options.filename), { recursive: true });
  const db = new Database(options.filename, readonly ? { readonly, fileMustExist: true } : {});
  db.pragma(`busy_timeout = ${Math.floor(options.busyTimeoutMs ?? 5000)}`);
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    // FULL: an acknowledged append is fsynced and survives power loss, not only a process crash.
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
  }

  const tailOf = db.prepare<[string], StreamTail>('SELECT revision, position FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1');
  const insert = db.prepare<[Omit<EventRow, 'position'>]>(
    'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (@id, @stream, @revision, @type, @data, @metadata, @recorded_at)',
  );
  // A range scan of the UNIQUE (stream, revision) index: a tail costs only its own rows.
  const byStream = db.prepare<[string, number], EventRow>('SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision');
  const byStreamLimited = db.prepare<[string, number, number], EventRow>('SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?');
  const afterPosition = db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?');
  const head = db.prepare<[], { head: number | null }>('SELECT MAX(position) AS head FROM events');
  const belowFirst = db.prepare<[number], EventRow>('SELECT * FROM events WHERE position < 1 ORDER BY position LIMIT ?');
  const countBelowFirst = db.prepare<[], { count: number; lowest: string | null }>('SELECT count(*) AS count, CAST(MIN(position) AS TEXT) AS lowest FROM events WHERE position < 1');

  const appendInTransaction = db.transaction((stream: string, events: readonly NewEvent[], expected: ExpectedRevision): AppendResult => {
    const tail = tailOf.get(stream);
    checkExpectedRevision(stream, expected, tail?.revision ?? 'no_stream');
    let result: AppendResult = { revision: tail?.revision ?? -1, position: tail?.position ?? 0 };
    const now = clock();
    for (const event of events) {
      const revision = result.revision + 1;
      const { lastInsertRowid } = insert.run(toRow(stream, revision, event, now));
      result = { revision, position: Number(lastInsertRowid) };
    }
    return result;
  });

  const isRevisionClash = (error: unknown): boolean =>
    error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE' && error.message.includes('events.stream');

  const readAll = async (after: number, limit: number) => afterPosition.all(after, clampLimit(limit)).map(fromRow);
  const hub = createSubscriptionHub(readAll);

  return {
    append: async (stream, events, expected) => {
      try {
        // IMMEDIATE takes the write lock before reading the stream's revision.
        const result = appendInTransaction.immediate(stream, events, expected);
        if (events.length > 0) hub.notify();
        return result;
      } catch (error) {
        if (!isRevisionClash(error)) throw error;
        throw new WrongExpectedRevision(stream, expected, tailOf.get(stream)?.revision ?? 'no_stream');
      }
    },
    readStream: async (stream, options) => {
      const from = fromRevisionOf(options);
      const limit = limitOf(options);
      return (limit === undefined ? byStream.all(stream, from) : byStreamLimited.all(stream, from, limit)).map(fromRow);
    },
    readAll,
    readBelowFirst: async (limit) => ({ ...countBelowFirst.get()!, events: belowFirst.all(clampLimit(limit)).map(fromRow) }),
    subscribe: hub.subscribe,
    headPosition: async () => head.get()?.head ?? 0,
    close: async () => {
      await hub.closeAll();
      if (db.open) db.close();
    },
  };
};
