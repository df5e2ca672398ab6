/**
 * Two processes on one PostgreSQL log, each with its state cache: what one appends evicts the
 * other's entry of that stream as the commit notification arrives, so the other's next command
 * reads the stream once instead of deciding on a stale state and having its append refused.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { left, right } from 'fp-ts/lib/Either.js';
import pg from 'pg';
import { makeHandleCommand, type Aggregate } from '../../src/application/handle-command.js';
import type { EventStore } from '../../src/application/ports.js';
import { createStateCache, type StateCache } from '../../src/application/state-cache.js';
import { reject } from '../../src/domain/shared/rejection.js';
import { createPostgresEventStore, eventStoreMigrations, type PostgresEventStore } from '../../src/infrastructure/postgres/event-store.js';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';

type DoorEvent = { type: 'Opened' | 'Closed'; data: Record<string, never> };
type DoorCommand = { type: 'Open' | 'Close' };
const Door: Aggregate<DoorCommand, { open: boolean }, DoorEvent> = {
  name: 'Door',
  decider: {
    initialState: { open: false },
    evolve: (_state, event) => ({ open: event.type === 'Opened' }),
    decide: (command, state) =>
      state.open === (command.type === 'Open') ? left(reject('CONFLICT', 'Already so')) : right([{ type: command.type === 'Open' ? 'Opened' : 'Closed', data: {} }]),
  },
};

const eventually = async (condition: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('state caches of several processes on one PostgreSQL log', () => {
  let schema: TestSchema;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    schema = await createTestSchema();
    const pool = new pg.Pool({ connectionString: schema.url });
    await migrate(pool, eventStoreMigrations);
    await pool.end();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await schema.drop();
  });

  /** A process: its own pool, store and cache; `watch` wires the cache to commit notifications. */
  const openProcess = async (watch: boolean) => {
    const pool = new pg.Pool({ connectionString: schema.url, max: 3 });
    const raw: PostgresEventStore = createPostgresEventStore({ pool, listenConnectionString: schema.url });
    closers.push(async () => {
      await raw.close();
      await pool.end();
    });
    const cache: StateCache = createStateCache(100);
    if (watch) {
      let listening = false;
      raw.watchStreams({ moved: cache.invalidate, unknown: () => ((listening = true), cache.clear()) });
      await eventually(() => listening);
    }
    const calls = { reads: 0, appends: 0 };
    const store: EventStore = {
      ...raw,
      readStream: (stream, options) => (calls.reads++, raw.readStream(stream, options)),
      append: (stream, events, expected) => (calls.appends++, raw.append(stream, events, expected)),
    };
    const handle = makeHandleCommand({ store, cache, tracer: (_n, _a, fn) => fn(), metadata: () => ({}) });
    return { run: (type: DoorCommand['type']) => handle(Door, 'door', () => ({ type })), cache, calls };
  };

  it.each([
    ['watching commits', true, { reads: 2, appends: 2 }],
    ['without watching (a stale entry costs a refused append)', false, { reads: 2, appends: 3 }],
  ])('%s', async (_name, watch, expected) => {
    const [a, b] = [await openProcess(watch), await openProcess(watch)];
    expect((await b.run('Open'))._tag).toBe('Right'); // b caches the open door at revision 0
    expect((await a.run('Close'))._tag).toBe('Right'); // a closes and opens it again: revision 2
    expect((await a.run('Open'))._tag).toBe('Right');
    if (watch) await eventually(() => b.cache.get('door') === undefined);
    // On its stale entry b would decide to close at revision 0; the store refuses that append.
    expect((await b.run('Close'))._tag).toBe('Right');
    expect(b.calls).toEqual(expected);
  });
});
