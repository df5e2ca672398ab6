/**
 * Commands and queries on an aggregate that keeps snapshots: one is saved each time the stream
 * passes a multiple of the interval, a fresh process reads it and only the events after it, and
 * a snapshot of another format, or none at all, means reading the whole stream.
 */
import { describe, expect, it } from '@jest/globals';
import { left, right } from 'fp-ts/lib/Either.js';
import { makeHandleCommand, makeLoadState, type Aggregate } from '../../src/application/handle-command.js';
import type { EventStore, Logger, ReadStreamOptions, SnapshotStore } from '../../src/application/ports.js';
import { createStateCache } from '../../src/application/state-cache.js';
import { reject } from '../../src/domain/shared/rejection.js';
import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';
import { bestEffortSnapshots } from '../../src/infrastructure/snapshots/best-effort.js';
import { createInMemorySnapshotStore } from '../../src/infrastructure/snapshots/in-memory-snapshot-store.js';

/** A counter that refuses to go below zero: its state depends on every event, in order. */
type CounterEvent = { type: 'Added'; data: { n: number } };
type CounterCommand = { type: 'Add'; n: number };
type Counter = { total: number; changes: number };
const Counter: Aggregate<CounterCommand, Counter, CounterEvent> = {
  name: 'Counter',
  decider: {
    initialState: { total: 0, changes: 0 },
    evolve: (state, event) => ({ total: state.total + event.data.n, changes: state.changes + 1 }),
    decide: (command, state) => (state.total + command.n < 0 ? left(reject('CONFLICT', 'Below zero')) : right([{ type: 'Added', data: { n: command.n } }])),
  },
  snapshot: { version: 'counter/1', every: 3 },
};

const recording = (store: EventStore) => {
  const reads: Array<ReadStreamOptions | undefined> = [];
  return { store: { ...store, readStream: (stream: string, options?: ReadStreamOptions) => (reads.push(options), store.readStream(stream, options)) }, reads };
};

const processOn = (store: EventStore, snapshots: SnapshotStore, aggregate = Counter) => {
  const handle = makeHandleCommand({ store, snapshots, tracer: (_n, _a, fn) => fn(), metadata: () => ({}), cache: createStateCache(10), now: () => 0 });
  return { add: (n: number) => handle(aggregate, 'counter-1', () => ({ type: 'Add' as const, n })), load: makeLoadState({ store, snapshots }) };
};

describe('snapshots', () => {
  it('are saved each time the stream passes a multiple of the interval, with the state at that revision', async () => {
    const store = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    const { add } = processOn(store, snapshots);
    for (const n of [1, 2]) await add(n);
    expect(await snapshots.load('counter-1')).toBeUndefined();
    await add(3); // the third event: revision 2
    const third = (await store.readStream('counter-1'))[2]!;
    expect(await snapshots.load('counter-1')).toEqual({ stream: 'counter-1', revision: 2, event_id: third.id, version: 'counter/1', state: { total: 6, changes: 3 } });
    for (const n of [4, 5, 6, 7]) await add(n);
    expect(await snapshots.load('counter-1')).toMatchObject({ revision: 5, state: { total: 21, changes: 6 } });
  });

  it('let a fresh process read only the events after the snapshot, and decide as on the whole stream', async () => {
    const shared = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    const first = processOn(shared, snapshots);
    for (const n of [5, 5, 5, 5, -3]) await first.add(n); // snapshot at revision 2 (total 15); total 17
    const { store, reads } = recording(shared);
    const fresh = processOn(store, snapshots);
    expect(await fresh.load(Counter, 'counter-1')).toEqual({ total: 17, changes: 5 });
    expect(reads).toEqual([{ fromRevision: 2 }]); // from the snapshot's own event, to check it is still there
    expect((await fresh.add(-18))._tag).toBe('Left'); // decided on 17, not on the snapshot's 15
    expect((await fresh.add(-17))._tag).toBe('Right');
    expect((await shared.readStream('counter-1')).map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await snapshots.load('counter-1')).toMatchObject({ revision: 5, state: { total: 0, changes: 6 } });
  });

  it('are taken when one append of several events passes a multiple', async () => {
    const store = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    const handle = makeHandleCommand({ store, snapshots, tracer: (_n, _a, fn) => fn(), metadata: () => ({}) });
    const addMany = (ns: number[]) =>
      handle({ ...Counter, decider: { ...Counter.decider, decide: () => right(ns.map((n) => ({ type: 'Added' as const, data: { n } }))) } }, 'counter-1', () => ({ type: 'Add' as const, n: 0 }));
    await addMany([1, 1]); // revisions 0, 1
    await addMany([1, 1, 1, 1]); // revisions 2..5: passes 3 (and lands on 6 events)
    expect(await snapshots.load('counter-1')).toMatchObject({ revision: 5, state: { total: 6, changes: 6 } });
  });

  it('at the very end of the stream serve a cold read, and the next command appends after them', async () => {
    const shared = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    for (const n of [1, 2, 3]) await processOn(shared, snapshots).add(n); // a snapshot at revision 2, the tail
    const fresh = processOn(shared, snapshots);
    expect(await fresh.load(Counter, 'counter-1')).toEqual({ total: 6, changes: 3 });
    expect((await fresh.add(4))._tag).toBe('Right');
    expect((await shared.readStream('counter-1')).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
  });

  it('that no longer match the log (restored from an older backup) are ignored, and replaced at the next interval', async () => {
    const snapshots = createInMemorySnapshotStore();
    const before = createInMemoryEventStore();
    for (const n of [1, 1, 1, 1, 1, 1]) await processOn(before, snapshots).add(n); // snapshot at revision 5: total 6
    const restored = createInMemoryEventStore(); // the log as a backup had it, then a different history
    for (const n of [5, 5]) await processOn(restored, snapshots).add(n);
    for (const n of [5, 5, 5, 5]) await restored.append('counter-1', [{ type: 'Added', data: { n } }], 'any'); // revision 5 exists, elsewhere
    const fresh = processOn(restored, snapshots);
    expect(await fresh.load(Counter, 'counter-1')).toEqual({ total: 30, changes: 6 });
    expect((await fresh.add(-30))._tag).toBe('Right'); // decided on 30, not on the snapshot's 6
    for (const n of [1, 1]) await fresh.add(n); // revision 8: the next multiple
    expect(await snapshots.load('counter-1')).toMatchObject({ revision: 8, state: { total: 2, changes: 9 } });
    expect(await processOn(restored, snapshots).load(Counter, 'counter-1')).toEqual({ total: 2, changes: 9 });
  });

  it('are not looked up for a stream this process was told is too short to have one', async () => {
    const shared = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    const loads: string[] = [];
    const watched: SnapshotStore = { load: (s) => (loads.push(s), snapshots.load(s)), save: snapshots.save };
    const cache = createStateCache(10);
    const handle = makeHandleCommand({ store: shared, snapshots: watched, tracer: (_n, _a, fn) => fn(), metadata: () => ({}), cache, now: () => 0 });
    const add = (n: number) => handle(Counter, 'counter-1', () => ({ type: 'Add' as const, n }));
    const other = processOn(shared, snapshots);
    await add(1); // a cold read with nothing known: looked up
    expect(loads).toHaveLength(1);
    await other.add(1); // revision 1, by another process
    cache.invalidate('counter-1', 1); // as its commit notification would say
    await add(1); // revision 2: 2 events known, fewer than the interval of 3: no look-up
    expect(loads).toHaveLength(1);
    for (const n of [1, 1, 1]) await other.add(n); // revision 5, snapshot at 5
    cache.invalidate('counter-1', 5);
    await add(1);
    expect(loads).toHaveLength(2); // long enough now: looked up, and used
    expect((await shared.readStream('counter-1')).length).toBe(7);
  });

  it('of another format are ignored: the whole stream is read', async () => {
    const store = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    const { add } = processOn(store, snapshots);
    for (const n of [1, 1, 1, 1]) await add(n);
    const bumped = { ...Counter, snapshot: { version: 'counter/2', every: 3 } };
    const { store: watched, reads } = recording(store);
    expect(await processOn(watched, snapshots, bumped).load(bumped, 'counter-1')).toEqual({ total: 4, changes: 4 });
    expect(reads).toEqual([undefined]);
  });

  it('are neither read nor written for an aggregate without the setting', async () => {
    const store = createInMemoryEventStore();
    const touched: string[] = [];
    const spy: SnapshotStore = { load: async (s) => (touched.push(`load ${s}`), undefined), save: async (s) => void touched.push(`save ${s.stream}`) };
    const { snapshot: _none, ...plain } = Counter;
    const { add, load } = processOn(store, spy, plain);
    for (const n of [1, 1, 1, 1]) await add(n);
    expect(await load(plain, 'counter-1')).toEqual({ total: 4, changes: 4 });
    expect(touched).toEqual([]);
  });

  it('never fail a command: a store that throws is logged, loads nothing and saves nothing', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined };
    const broken = bestEffortSnapshots({ load: async () => Promise.reject(new Error('down')), save: async () => Promise.reject(new Error('down')) }, logger);
    const { add, load } = processOn(createInMemoryEventStore(), broken);
    for (const n of [1, 1, 1]) expect((await add(n))._tag).toBe('Right');
    expect(await load(Counter, 'counter-1')).toEqual({ total: 3, changes: 3 });
    expect(warnings).toEqual(['snapshot load failed; reading the whole stream', 'snapshot save failed', 'snapshot load failed; reading the whole stream']);
  });
});
