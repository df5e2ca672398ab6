/**
 * Commands with a state cache: a hot stream is not read again, yet a stale entry (another
 * process wrote meanwhile) never leads to a wrong decision: appends carry the cached revision
 * and the store refuses them, and decisions that append nothing are confirmed on a fresh read.
 * Queries that accept bounded staleness see this process's writes at once.
 */
import { describe, expect, it } from '@jest/globals';
import { left, right } from 'fp-ts/lib/Either.js';
import { ChallengeAggregate, EnrollmentAggregate } from '../../src/application/aggregates.js';
import { makeHandleCommand, makeLoadRecentState, type Aggregate } from '../../src/application/handle-command.js';
import type { EventStore } from '../../src/application/ports.js';
import { createStateCache, type StateCache } from '../../src/application/state-cache.js';
import type { ChallengeCommand } from '../../src/domain/challenge/index.js';
import type { EnrollmentState } from '../../src/domain/enrollment/index.js';
import { reject } from '../../src/domain/shared/rejection.js';
import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';

/** A door: Open and Close alternate; Knock appends nothing; opening an open door is refused. */
type DoorEvent = { type: 'Opened'; data: { by: string } } | { type: 'Closed'; data: { by: string } };
type DoorCommand = { type: 'Open' | 'Close' | 'Knock'; by: string };
type Door = { open: boolean; changes: number };
const Door: Aggregate<DoorCommand, Door, DoorEvent> = {
  name: 'Door',
  decider: {
    initialState: { open: false, changes: 0 },
    evolve: (state, event) => ({ open: event.type === 'Opened', changes: state.changes + 1 }),
    decide: (command, state) => {
      if (command.type === 'Knock') return right([]);
      const wantOpen = command.type === 'Open';
      if (state.open === wantOpen) return left(reject('CONFLICT', wantOpen ? 'Already open' : 'Already closed'));
      return right([{ type: wantOpen ? 'Opened' : 'Closed', data: { by: command.by } }]);
    },
  },
};

/** The store, counting stream reads. */
const counting = (store: EventStore) => {
  const reads: string[] = [];
  const counted: EventStore = { ...store, readStream: (stream, options) => (reads.push(stream), store.readStream(stream, options)) };
  return { store: counted, reads };
};

const processOn = (store: EventStore, cache?: StateCache, now: () => number = () => 0) => {
  const handle = makeHandleCommand({ store, tracer: (_n, _a, fn) => fn(), metadata: () => ({}), ...(cache ? { cache } : {}), now });
  return (type: DoorCommand['type'], by = 'a') => handle(Door, 'door-1', () => ({ type, by }));
};

describe('handleCommand with a state cache', () => {
  it('reads a stream once while this process is the only writer', async () => {
    const { store, reads } = counting(createInMemoryEventStore());
    const run = processOn(store, createStateCache(10));
    for (const type of ['Open', 'Close', 'Open', 'Close'] as const) expect((await run(type))._tag).toBe('Right');
    expect(reads).toEqual(['door-1']);
    expect((await store.readStream('door-1')).map((e) => e.type)).toEqual(['Opened', 'Closed', 'Opened', 'Closed']);
  });

  it('reads every time without a cache, and with a cache of size 0', async () => {
    for (const cache of [undefined, createStateCache(0)]) {
      const { store, reads } = counting(createInMemoryEventStore());
      const run = processOn(store, cache);
      await run('Open');
      await run('Close');
      expect(reads).toHaveLength(2);
    }
  });

  it('decides again on fresh state when another process wrote since (the store refuses the stale revision)', async () => {
    const shared = createInMemoryEventStore();
    const a = processOn(shared, createStateCache(10));
    const b = processOn(shared, createStateCache(10));
    await a('Open', 'a'); // a caches: open, revision 0
    await b('Close', 'b'); // b reads, closes: revision 1; a's entry is now stale
    const outcome = await a('Open', 'a'); // on a's stale view the door is open: refused; confirmed on a fresh read it succeeds
    expect(outcome._tag).toBe('Right');
    expect((await shared.readStream('door-1')).map((e) => `${e.type}:${e.revision}`)).toEqual(['Opened:0', 'Closed:1', 'Opened:2']);
    // a stale entry whose decision appends: the append is refused and redone on fresh state
    await b('Close', 'b'); // b's entry is current (revision 3); a's says open at revision 2
    const again = await a('Close', 'a'); // a's stale view agrees to close: append at revision 2 is refused, fresh state says closed
    expect(again._tag).toBe('Left');
    expect((await shared.readStream('door-1')).map((e) => e.type)).toEqual(['Opened', 'Closed', 'Opened', 'Closed']);
  });

  it('confirms a no-op decided on cached state with a fresh read', async () => {
    const { store, reads } = counting(createInMemoryEventStore());
    const run = processOn(store, createStateCache(10));
    await run('Open');
    expect((await run('Knock'))._tag).toBe('Right');
    expect(reads).toEqual(['door-1', 'door-1']);
  });

  it('forgets the entry when an append fails for another reason (its outcome is unknown)', async () => {
    const inner = createInMemoryEventStore();
    let failNext = false;
    const { store, reads } = counting({
      ...inner,
      append: async (...args) => {
        if (failNext) {
          failNext = false;
          throw new Error('connection lost');
        }
        return inner.append(...args);
      },
    });
    const cache = createStateCache(10);
    const run = processOn(store, cache);
    await run('Open');
    failNext = true;
    await expect(run('Close')).rejects.toThrow('connection lost');
    expect(cache.get('door-1')).toBeUndefined();
    expect((await run('Close'))._tag).toBe('Right');
    expect(reads).toEqual(['door-1', 'door-1']);
  });
});

describe('states an aggregate does not cache', () => {
  const OpenNotKept: Aggregate<DoorCommand, Door, DoorEvent> = { ...Door, cacheable: (state) => !state.open };

  it('are read every time, and drop the entry a cacheable state of the same stream left', async () => {
    const { store, reads } = counting(createInMemoryEventStore());
    const cache = createStateCache(10);
    const handle = makeHandleCommand({ store, tracer: (_n, _a, fn) => fn(), metadata: () => ({}), cache, now: () => 0 });
    const run = (type: DoorCommand['type']) => handle(OpenNotKept, 'door-1', () => ({ type, by: 'a' }));
    await run('Open'); // reads the closed door (kept), opens it: an open door is not kept
    expect(cache.get('door-1')).toBeUndefined();
    await run('Close'); // so this reads again; the closed door is kept
    expect(cache.get('door-1')).toMatchObject({ state: { open: false }, revision: 1 });
    await run('Open'); // decided on the kept state, no read
    expect(reads).toEqual(['door-1', 'door-1']);
    const load = makeLoadRecentState({ store, cache, now: () => 0 });
    expect(await load(OpenNotKept, 'door-1', 60_000)).toEqual({ open: true, changes: 3 });
    expect(cache.get('door-1')).toBeUndefined();
  });

  it('include closed challenges and unknown challenge ids: only an open challenge is kept', async () => {
    const { store, reads } = counting(createInMemoryEventStore());
    const cache = createStateCache(10);
    const handle = makeHandleCommand({ store, tracer: (_n, _a, fn) => fn(), metadata: () => ({}), cache, now: () => 0 });
    const T0 = '2026-11-30T12:00:00.000Z';
    const issue: ChallengeCommand = {
      type: 'IssueChallenge', challenge_id: 'ch-1', app_id: 'app-1', username: 'ada', channel: 'SMS', purpose: 'VERIFICATION',
      code_hash: 'hash-1', expires_at: '2026-11-30T12:10:00.000Z', max_attempts: 3, at: T0,
    };
    const verify = (stream: string, code_matches: boolean) => handle(ChallengeAggregate, stream, () => ({ type: 'VerifyChallengeCode' as const, app_id: 'app-1', purpose: 'VERIFICATION' as const, code_matches, at: T0 }));

    expect((await verify('challenge-unknown', true))._tag).toBe('Left'); // NOT_FOUND
    expect(cache.get('challenge-unknown')).toBeUndefined();
    await handle(ChallengeAggregate, 'challenge-ch-1', () => issue);
    await verify('challenge-ch-1', false); // a wrong code: still open, decided on the kept state
    expect(cache.get('challenge-ch-1')).toMatchObject({ state: { status: 'PENDING', attempts: 1 }, revision: 1 });
    expect(await verify('challenge-ch-1', true)).toMatchObject({ _tag: 'Right', right: { state: { status: 'APPROVED' } } });
    expect(cache.get('challenge-ch-1')).toBeUndefined();
    expect(reads).toEqual(['challenge-unknown', 'challenge-ch-1']); // the open challenge's commands decided on the kept state
  });

  it('include recovery codes, but not TOTP factors', () => {
    const recovery = { kind: 'RECOVERY', enrollment_id: 'e', app_id: 'a', username: 'u', status: 'ACTIVE', code_hashes: [], used: [], failures: 0, locked_until: null, recent_failures: [] } as const;
    expect(EnrollmentAggregate.cacheable(recovery)).toBe(false);
    expect(EnrollmentAggregate.cacheable({ kind: 'NONE' })).toBe(true);
    expect(EnrollmentAggregate.cacheable({ kind: 'FACTOR' } as unknown as EnrollmentState)).toBe(true); // only the kind matters
  });
});

describe('StateCache', () => {
  it('drops the least recently used entry beyond its size', () => {
    const cache = createStateCache(2);
    cache.offer('a', { state: 'A', revision: 0, at: 0 });
    cache.offer('b', { state: 'B', revision: 0, at: 0 });
    cache.get('a'); // a is now the most recent
    cache.offer('c', { state: 'C', revision: 0, at: 0 });
    expect([cache.get('a')?.state, cache.get('b'), cache.get('c')?.state]).toEqual(['A', undefined, 'C']);
    expect(cache.size()).toBe(2);
  });

  it('keeps a hot entry through a stream of misses, and evicts in least-recently-used order', () => {
    const cache = createStateCache(100);
    cache.offer('hot', { state: 'H', revision: 0, at: 0 });
    for (let i = 0; i < 1000; i++) {
      expect(cache.get('hot')?.state).toBe('H'); // read on every request, as an app's stream is
      cache.offer(`cold-${i}`, { state: i, revision: 0, at: 0 });
      expect(cache.size()).toBeLessThanOrEqual(100);
    }
    // 'hot' and the 99 latest cold entries remain
    expect([cache.get('cold-900'), cache.get('cold-901')?.state, cache.get('hot')?.state]).toEqual([undefined, 901, 'H']);
  });

  it('keeps a stream whose every command offers a newer state, updating its entry in place or moving it', () => {
    const cache = createStateCache(100);
    for (let i = 0; i < 1000; i++) {
      cache.offer('hot', { state: `H${i}`, revision: i, at: 0 }); // as an enrollment's verifications do
      cache.offer(`cold-${i}`, { state: i, revision: 0, at: 0 });
      expect(cache.get('hot')).toEqual({ state: `H${i}`, revision: i, at: 0 });
      expect(cache.size()).toBeLessThanOrEqual(100);
    }
    cache.offer('hot', { state: 'stale', revision: 5, at: 0 }); // an older state never replaces a newer one
    expect(cache.get('hot')?.state).toBe('H999');
    expect([cache.get('cold-900'), cache.get('cold-901')?.state]).toEqual([undefined, 901]);
  });

  it('drops an entry another writer moved past, keeps one at or beyond the revision told, and can be cleared', () => {
    const cache = createStateCache(10);
    cache.offer('a', { state: 'a3', revision: 3, at: 0 });
    cache.offer('b', { state: 'b5', revision: 5, at: 0 });
    cache.invalidate('a', 3); // this process's own append, told back: still current
    cache.invalidate('b', 4); // an older notification arriving late
    cache.invalidate('c', 9); // not held
    expect([cache.get('a')?.state, cache.get('b')?.state]).toEqual(['a3', 'b5']);
    cache.invalidate('a', 4);
    expect(cache.get('a')).toBeUndefined();
    cache.clear();
    expect(cache.size()).toBe(0);
  });

  it('remembers the revision it was told of for streams it does not hold current, until it does', () => {
    const cache = createStateCache(10);
    cache.offer('a', { state: 'a0', revision: 0, at: 0 });
    cache.invalidate('a', 2);
    expect(cache.knownRevision('a')).toBe(2);
    cache.invalidate('a', 5);
    cache.invalidate('a', 4); // a late notification lowers nothing
    expect(cache.knownRevision('a')).toBe(5);
    cache.invalidate('not-held', 7);
    expect(cache.knownRevision('not-held')).toBe(7);
    // A read that was under way when revision 7 was committed elsewhere cannot offer its older state.
    cache.offer('not-held', { state: 'n6', revision: 6, at: 0 });
    expect(cache.get('not-held')).toBeUndefined();
    cache.offer('not-held', { state: 'n7', revision: 7, at: 0 });
    expect(cache.get('not-held')?.state).toBe('n7');
    cache.offer('a', { state: 'a5', revision: 5, at: 0 });
    expect(cache.knownRevision('a')).toBeUndefined();
    cache.invalidate('a', 6);
    cache.clear();
    expect(cache.knownRevision('a')).toBeUndefined();
  });

  it('never replaces a later revision with an earlier one', () => {
    const cache = createStateCache(2);
    cache.offer('a', { state: 'new', revision: 5, at: 10 });
    cache.offer('a', { state: 'old', revision: 4, at: 20 });
    expect(cache.get('a')).toEqual({ state: 'new', revision: 5, at: 10 });
    cache.offer('a', { state: 'new', revision: 5, at: 30 });
    expect(cache.get('a')?.at).toBe(30);
  });
});

describe('loadRecentState', () => {
  it('serves a state younger than the accepted staleness, reads an older one, and sees this process\'s writes at once', async () => {
    const shared = createInMemoryEventStore();
    const { store, reads } = counting(shared);
    const cache = createStateCache(10);
    let clock = 0;
    const now = () => clock;
    const load = makeLoadRecentState({ store, cache, now });
    const run = processOn(store, cache, now);
    const other = processOn(shared); // another process, writing behind this one's back

    expect(await load(Door, 'door-1', 1000)).toEqual({ open: false, changes: 0 });
    await run('Open'); // through this process: known at once
    expect(await load(Door, 'door-1', 1000)).toEqual({ open: true, changes: 1 });
    expect(reads).toEqual(['door-1']);

    await other('Close');
    clock = 999;
    expect((await load(Door, 'door-1', 1000)).open).toBe(true); // still within the accepted staleness
    clock = 1000;
    expect(await load(Door, 'door-1', 1000)).toEqual({ open: false, changes: 2 });
    expect(reads).toEqual(['door-1', 'door-1']);
    expect(await load(Door, 'door-1', 0)).toEqual({ open: false, changes: 2 }); // 0: always read
    expect(reads).toEqual(['door-1', 'door-1', 'door-1']);
  });
});
