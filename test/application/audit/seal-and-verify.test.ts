import { describe, expect, it } from '@jest/globals';
import { logEvents } from '../../../src/application/audit/log-events.js';
import { SEAL_STREAM } from '../../../src/application/audit/log-seal.js';
import { ForgedLogSeal, makeSealLog } from '../../../src/application/audit/seal-log.js';
import { verifyLog, type AuditedEvent } from '../../../src/application/audit/verify-log.js';
import type { EventStore, RecordedEvent } from '../../../src/application/ports.js';
import { sha256LogChain } from '../../../src/infrastructure/audit/log-chain.js';
import { createSealSigner } from '../../../src/infrastructure/audit/seal-signer.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';
import { safeEqual } from '../../../src/infrastructure/crypto/keyed-hash.js';
import { createInMemoryEventStore } from '../../../src/infrastructure/event-store/in-memory-event-store.js';
import { createInMemorySnapshotStore } from '../../../src/infrastructure/snapshots/in-memory-snapshot-store.js';

const key = (id: string, byte: number) => ({ id, key: Buffer.alloc(32, byte) });
const signer = createSealSigner(createKeyring([key('k1', 1)]), safeEqual);
const deps = { chain: sha256LogChain, signer };

const appendSome = async (store: EventStore, stream: string, count: number) => {
  for (let i = 0; i < count; i++) await store.append(stream, [{ type: 'Happened', data: { i, nested: { b: 2, a: [1, 'x'] } } }], 'any');
};

const fromArray = async function* (events: readonly AuditedEvent[]) {
  yield* events;
};

const all = async (store: EventStore) => {
  const events: RecordedEvent[] = [];
  for await (const event of logEvents(store, 0, 7)) events.push(event);
  return events;
};

describe('sealing the log', () => {
  it('seals what was appended, and only when something but seals was', async () => {
    const store = createInMemoryEventStore();
    const seal = makeSealLog({ log: store, ...deps });
    expect(await seal()).toEqual({ sealed: false });
    await appendSome(store, 'a-1', 3);
    expect(await seal()).toMatchObject({ sealed: true, through: 3, count: 3 });
    expect(await seal()).toEqual({ sealed: false });
    await appendSome(store, 'a-2', 2);
    // The first seal (position 4) is chained like any event.
    expect(await seal()).toMatchObject({ sealed: true, through: 6, count: 6 });
    const report = await verifyLog(logEvents(store), deps);
    expect(report).toMatchObject({ ok: true, events: 7, head: 7, seals: 2, sealed_events: 6, sealed_through: 6, unsealed_events: 1, problems: [] });
  });

  it('lets one of two racing sealers seal; the other goes on from its seal', async () => {
    const store = createInMemoryEventStore();
    const [one, two] = [makeSealLog({ log: store, ...deps }), makeSealLog({ log: store, ...deps })];
    await appendSome(store, 'a-1', 5);
    const results = await Promise.all([one(), two()]);
    expect(results.filter((r) => r.sealed)).toHaveLength(1);
    await appendSome(store, 'a-1', 2);
    await Promise.all([one(), two()]);
    await appendSome(store, 'a-1', 1);
    expect(await two()).toMatchObject({ sealed: true });
    expect(await verifyLog(logEvents(store), deps)).toMatchObject({ ok: true, problems: [] });
    // Every seal extends the one before: none was lost to the race.
    const seals = (await store.readStream(SEAL_STREAM)).map((e) => (e.data as { count: number }).count);
    expect(seals).toEqual([...seals].sort((a, b) => a - b));
  });

  it('starts from the snapshot of its last seal instead of reading every seal', async () => {
    const store = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    const first = makeSealLog({ log: store, ...deps, snapshots });
    for (let i = 0; i < 3; i++) {
      await appendSome(store, 'a-1', 1);
      await first();
    }
    expect(await snapshots.load(SEAL_STREAM)).toMatchObject({ revision: 2 });
    const reads: number[] = [];
    const counting: EventStore = { ...store, readStream: (stream, options) => (reads.push(options?.fromRevision ?? 0), store.readStream(stream, options)) };
    await appendSome(store, 'a-1', 1);
    expect(await makeSealLog({ log: counting, ...deps, snapshots })()).toMatchObject({ sealed: true, count: 7 });
    expect(reads.every((from) => from >= 2)).toBe(true);
    expect(await verifyLog(logEvents(store), deps)).toMatchObject({ ok: true });
  });

  it('refuses to extend a last seal whose MAC is not the service\'s', async () => {
    const store = createInMemoryEventStore();
    await appendSome(store, 'a-1', 2);
    const forger = createSealSigner(createKeyring([key('k1', 9)]), safeEqual);
    await makeSealLog({ log: store, chain: sha256LogChain, signer: forger })();
    await appendSome(store, 'a-1', 1);
    await expect(makeSealLog({ log: store, ...deps })()).rejects.toBeInstanceOf(ForgedLogSeal);
  });

  it('tells a seal under a master key it lacks from a forged one, and does not extend it either', async () => {
    const store = createInMemoryEventStore();
    await appendSome(store, 'a-1', 2);
    const rotated = createSealSigner(createKeyring([key('k2', 2), key('k1', 1)]), safeEqual);
    await makeSealLog({ log: store, chain: sha256LogChain, signer: rotated })();
    await appendSome(store, 'a-1', 1);
    const stale = makeSealLog({ log: store, ...deps });
    await expect(stale()).rejects.toThrow(/master key "k2", which this process does not have/);
    await expect(stale()).rejects.not.toBeInstanceOf(ForgedLogSeal);
  });
});

/** A copy of `events` in a new store, in order: what is left after someone deleted rows. */
const storeOf = async (events: readonly RecordedEvent[]) => {
  const store = createInMemoryEventStore();
  for (const e of events) await store.append(e.stream, [{ type: e.type, data: e.data, metadata: e.metadata }], 'any');
  return store;
};

describe('sealing a log whose seals were removed', () => {
  const sealedTwice = async () => {
    const store = createInMemoryEventStore();
    const snapshots = createInMemorySnapshotStore();
    const seal = makeSealLog({ log: store, ...deps, snapshots });
    await appendSome(store, 'a-1', 2);
    await seal();
    await appendSome(store, 'a-1', 2);
    await seal();
    return { store, snapshots, seal, events: await all(store) };
  };

  it('refuses to start when its pointer names a seal the stream no longer holds', async () => {
    const { snapshots, events } = await sealedTwice();
    const cut = await storeOf(events.filter((e) => !(e.stream === SEAL_STREAM && e.revision === 1)));
    await expect(makeSealLog({ log: cut, ...deps, snapshots })()).rejects.toThrow(/seals were removed, or the log was restored from a backup/);
  });

  it("refuses to start when the seal its pointer names holds an older seal's data (a valid MAC still), which would have it seal over a rewritten log", async () => {
    const { snapshots, events } = await sealedTwice();
    const [older, newest] = events.filter((e) => e.stream === SEAL_STREAM);
    // The newest seal's row kept (its id and revision), with the first seal's data copied in,
    // and an event after that first seal rewritten.
    const replayed = events.map((e) => (e === newest ? { ...e, data: older!.data } : e.position === older!.position + 1 ? { ...e, data: { i: 'rewritten' } } : e));
    const restored = createInMemoryEventStore();
    for (const e of replayed) await restored.append(e.stream, [{ type: e.type, data: e.data, metadata: e.metadata }], 'any');
    // The copy gives new ids: keep the pointer naming the row as it is now.
    const pointer = (await snapshots.load(SEAL_STREAM))!;
    const [row] = await restored.readStream(SEAL_STREAM, { fromRevision: pointer.revision });
    await snapshots.save({ ...pointer, event_id: row!.id });
    await expect(makeSealLog({ log: restored, ...deps, snapshots })()).rejects.toThrow(/no longer holds what it sealed: seals were altered/);
    // And verify says so too: the newest seal reaches no further than the one before it.
    expect(await verifyLog(logEvents(restored), deps)).toMatchObject({ ok: false });
  });

  it('stops, loudly, when the seal stream shrinks under it', async () => {
    const { events } = await sealedTwice();
    const original = await storeOf(events);
    let current: EventStore = original;
    const switching: EventStore = {
      append: (...args) => current.append(...args),
      readStream: (...args) => current.readStream(...args),
      readAll: (...args) => current.readAll(...args),
      subscribe: (...args) => current.subscribe(...args),
      headPosition: () => current.headPosition(),
      close: () => current.close(),
    };
    const kept = createInMemorySnapshotStore();
    let pointerRemoved = false;
    const snapshots = { load: (stream: string) => (pointerRemoved ? Promise.resolve(undefined) : kept.load(stream)), save: kept.save };
    const seal = makeSealLog({ log: switching, ...deps, snapshots });
    await appendSome(original, 'a-1', 1);
    expect(await seal()).toMatchObject({ sealed: true });
    current = await storeOf((await all(original)).filter((e) => !(e.stream === SEAL_STREAM && e.revision === 2)));
    await appendSome(current, 'a-1', 1);
    await expect(seal()).rejects.toBeInstanceOf(ForgedLogSeal);
    await expect(seal()).rejects.toBeInstanceOf(ForgedLogSeal);
    // An operator who restored the log on purpose removes the pointer: sealing resumes, no restart.
    pointerRemoved = true;
    expect(await seal()).toMatchObject({ sealed: true });
  });
});

describe('verifying the log', () => {
  const sealedLog = async () => {
    const store = createInMemoryEventStore();
    const seal = makeSealLog({ log: store, ...deps });
    await appendSome(store, 'a-1', 4);
    await appendSome(store, 'b-1', 3);
    await seal();
    await appendSome(store, 'a-1', 2);
    await seal();
    await appendSome(store, 'b-1', 2);
    return all(store);
  };
  const verify = (events: readonly AuditedEvent[], options = {}) => verifyLog(fromArray(events), deps, options);
  const problemsOf = async (events: readonly AuditedEvent[]) => (await verify(events)).problems.map((p) => p.problem);

  it('accepts the log as sealed', async () => {
    const events = await sealedLog();
    expect(await verify(events)).toMatchObject({ ok: true, events: 13, seals: 2, sealed_events: 10, sealed_through: 10, unsealed_events: 3 });
  });

  it('finds an event changed before a seal, whichever field changed', async () => {
    const events = await sealedLog();
    const changes: ((e: RecordedEvent) => RecordedEvent)[] = [
      (e) => ({ ...e, data: { ...(e.data as object), i: 99 } }),
      (e) => ({ ...e, metadata: { actor: 'someone else' } }),
      (e) => ({ ...e, type: 'Other' }),
      (e) => ({ ...e, recorded_at: '2020-01-01T00:00:00.000Z' }),
      (e) => ({ ...e, id: '00000000-0000-4000-8000-000000000000' }),
    ];
    for (const change of changes) {
      const tampered = events.map((e) => (e.position === 2 ? change(e) : e));
      const report = await verify(tampered);
      expect(report.ok).toBe(false);
      expect(report.problems[0]!.problem).toMatch(/seal does not match the log: an event at or before position 7/);
      expect(report.sealed_events).toBe(0);
    }
  });

  it('finds an event removed, before a seal or after the last', async () => {
    const events = await sealedLog();
    expect(await problemsOf(events.filter((e) => e.position !== 3))).toEqual(
      expect.arrayContaining([expect.stringMatching(/stream a-1 jumps from revision 1 to 3/), expect.stringMatching(/seal does not match the log/)]),
    );
    // Unsealed: the stream's revisions still give it away.
    const unsealedRemoved = events.filter((e) => !(e.stream === 'b-1' && e.revision === 3));
    expect(await problemsOf(unsealedRemoved)).toEqual([expect.stringMatching(/stream b-1 jumps from revision 2 to 4/)]);
  });

  it('finds a seal removed, or made with another key', async () => {
    const events = await sealedLog();
    const firstSeal = events.find((e) => e.stream === SEAL_STREAM)!;
    expect(await problemsOf(events.filter((e) => e !== firstSeal))).toEqual(expect.arrayContaining([expect.stringMatching(/jumps from revision -1 to 1/)]));
    const reSealed = { ...firstSeal, data: { ...(firstSeal.data as object), mac: 'ab'.repeat(32) } };
    expect(await problemsOf(events.map((e) => (e === firstSeal ? reSealed : e)))).toEqual(expect.arrayContaining(['seal carries a wrong MAC: it was not made by this service, or MASTER_KEY is not the key the service seals with as "k1"']));
    const unknownKey = await verifyLog(fromArray(events), { chain: sha256LogChain, signer: createSealSigner(createKeyring([key('k2', 1)]), safeEqual) });
    expect(unknownKey.problems.map((p) => p.problem)).toEqual(expect.arrayContaining([expect.stringMatching(/master key "k1".*which is not configured/)]));
  });

  it('finds a seal whose type was changed, the newest one too (it would just stop counting)', async () => {
    const events = await sealedLog();
    const lastSeal = events.filter((e) => e.stream === SEAL_STREAM).at(-1)!;
    const report = await verify(events.map((e) => (e === lastSeal ? { ...e, type: 'Other' } : e)));
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.problem)).toEqual([`Other on ${SEAL_STREAM}, where only LogSealed is written: a seal was altered`]);
  });

  it('verifies seals made before a master key rotation while the old key stays configured', async () => {
    const events = await sealedLog();
    const rotated = createSealSigner(createKeyring([key('k2', 2), key('k1', 1)]), safeEqual);
    expect(await verifyLog(fromArray(events), { chain: sha256LogChain, signer: rotated })).toMatchObject({ ok: true, seals: 2 });
  });

  describe('after the old master key is retired', () => {
    const k2Only = createSealSigner(createKeyring([key('k2', 2)]), safeEqual);
    /** The sealed log, then a seal under k2 made by a sealer that still had k1 (the re-wrap's), and more. */
    const retiredLog = async (after: 'covered' | 'not covered') => {
      const store = createInMemoryEventStore();
      await appendSome(store, 'a-1', 4);
      await makeSealLog({ log: store, ...deps })();
      await appendSome(store, 'a-1', 2);
      await makeSealLog({ log: store, ...deps })();
      await appendSome(store, 'system-master-keys', 1);
      if (after === 'covered') await makeSealLog({ log: store, chain: sha256LogChain, signer: createSealSigner(createKeyring([key('k2', 2), key('k1', 1)]), safeEqual) })();
      await appendSome(store, 'b-1', 2);
      return all(store);
    };

    it('takes seals under a key no longer configured as vouched for by a later valid seal', async () => {
      const report = await verifyLog(fromArray(await retiredLog('covered')), { chain: sha256LogChain, signer: k2Only });
      expect(report).toMatchObject({ ok: true, problems: [], seals: 3, retired_key_seals: 2, sealed_through: 9, unsealed_events: 3 });
    });

    it('still finds an event changed before them, and seals under such a key that no valid seal covers', async () => {
      const events = await retiredLog('covered');
      const changed = events.map((e) => (e.position === 2 ? { ...e, data: { i: 99 } } : e));
      expect((await verifyLog(fromArray(changed), { chain: sha256LogChain, signer: k2Only })).problems[0]!.problem).toMatch(/seal does not match the log/);
      const uncovered = await verifyLog(fromArray(await retiredLog('not covered')), { chain: sha256LogChain, signer: k2Only });
      expect(uncovered.ok).toBe(false);
      expect(uncovered.retired_key_seals).toBe(0);
      expect(uncovered.problems.map((p) => p.problem)).toEqual([
        '2 seals from here on, signed with master key "k1" or others, which is not configured, and no later seal under a configured key covers them: their MACs cannot be checked',
      ]);
    });
  });

  it('finds a rewritten log against a chain value kept from before (an anchor)', async () => {
    const events = await sealedLog();
    const kept = await verify(events.slice(0, 9));
    expect(await verify(events, { expect: { position: kept.head, chain: kept.chain } })).toMatchObject({ ok: true });
    const truncated = events.slice(0, 5);
    expect((await verify(truncated, { expect: { position: kept.head, chain: kept.chain } })).problems).toEqual([
      { position: kept.head, problem: `no event at position ${kept.head}: the log was truncated or rewritten` },
    ]);
    const rewritten = events.map((e) => (e.position === 9 ? { ...e, data: { i: -1 } } : e));
    expect((await verify(rewritten, { expect: { position: kept.head, chain: kept.chain } })).ok).toBe(false);
  });

  it('checks an export\'s own chain values line by line', async () => {
    const events = await sealedLog();
    let chain = sha256LogChain.genesis;
    const exported = events.map((e) => ({ ...e, chain: (chain = sha256LogChain.link(chain, e)) }));
    expect(await verify(exported)).toMatchObject({ ok: true });
    // The last, unsealed event changed: only its chain value gives it away.
    const last = exported.at(-1)!;
    const changed = exported.map((e) => (e === last ? { ...e, data: { i: 42 } } : e));
    expect(await problemsOf(changed)).toEqual(['chain value differs from the recomputed one: this or an earlier event was changed']);
  });

  it('finds newer seals removed with what only they covered changed, by the gap in positions', async () => {
    const events = await sealedLog();
    const lastSeal = events.filter((e) => e.stream === SEAL_STREAM).at(-1)!;
    // Position 9 was covered by the removed seal only.
    const rewritten = events.filter((e) => e !== lastSeal).map((e) => (e.position === 9 ? { ...e, data: { i: -9 } } : e));
    expect((await verify(rewritten)).ok).toBe(true);
    expect((await verify(rewritten, { densePositions: true })).problems).toEqual([{ position: lastSeal.position + 1, problem: `positions jump from ${lastSeal.position - 1} to ${lastSeal.position + 1}: events are missing` }]);
  });

  it('finds events left unsealed while the log went on (seals removed, or no sealer)', async () => {
    let now = Date.UTC(2026, 10, 30, 6, 0);
    const store = createInMemoryEventStore({ clock: () => new Date(now) });
    await appendSome(store, 'a-1', 3);
    await makeSealLog({ log: store, ...deps })();
    await appendSome(store, 'a-1', 1); // position 5, unsealed
    now += 2 * 3600_000;
    await appendSome(store, 'a-1', 1);
    const events = await all(store);
    expect((await verify(events, { maxUnsealedSeconds: 3600 })).problems).toEqual([
      { position: 5, problem: 'events from position 5 on went unsealed for 7200 s while the log went on: seals were removed, or no sealer runs (LOG_SEAL_INTERVAL_S)' },
    ]);
    expect((await verify(events, { maxUnsealedSeconds: 7200 })).ok).toBe(true);
    expect((await verify(events)).ok).toBe(true);
    // Sealed in time, nothing to report.
    await makeSealLog({ log: store, ...deps })();
    expect((await verify(await all(store), { maxUnsealedSeconds: 3600 })).ok).toBe(true);
  });

  it('finds a busy log with every seal removed, however far back its first unsealed event is', async () => {
    // 200,000 events at 50 a second (over an hour), none sealed: more than verify keeps in memory.
    const start = Date.UTC(2026, 10, 30, 6, 0);
    async function* busy() {
      for (let i = 0; i < 200_000; i++)
        yield { id: `e${i}`, stream: `s-${i % 100}`, revision: Math.floor(i / 100), position: i + 1, type: 'Happened', data: { i }, metadata: {}, recorded_at: new Date(start + i * 20).toISOString() };
    }
    expect((await verifyLog(busy(), deps, { maxUnsealedSeconds: 3600 })).problems).toEqual([
      { position: 1, problem: 'events from position 1 on went unsealed for 4000 s while the log went on: seals were removed, or no sealer runs (LOG_SEAL_INTERVAL_S)' },
    ]);
  }, 30_000);

  it('lists a seal over hours of events (no sealer ran, or the seals before it were removed), without failing the log', async () => {
    let now = Date.UTC(2026, 10, 30, 6, 0);
    const store = createInMemoryEventStore({ clock: () => new Date(now) });
    const seal = makeSealLog({ log: store, ...deps });
    await appendSome(store, 'a-1', 3);
    await seal();
    // Two hours of traffic, a minute apart, with no seal between (they were removed), then one.
    for (let i = 0; i < 120; i++) {
      now += 60_000;
      await appendSome(store, 'a-1', 1);
    }
    await makeSealLog({ log: store, ...deps })();
    const events = await all(store);
    const lastSeal = events.filter((e) => e.stream === SEAL_STREAM).at(-1)!;
    expect(await verify(events, { maxUnsealedSeconds: 3600 })).toMatchObject({ ok: true, problems: [], late_seals: [{ position: lastSeal.position, from: 5, span_s: 7080 }] });
    expect((await verify(events)).late_seals).toEqual([]);
  });

  it('takes a crash, a long stop and a seal at start over what the crash left unsealed for no alarm', async () => {
    let now = Date.UTC(2026, 10, 30, 6, 0);
    const store = createInMemoryEventStore({ clock: () => new Date(now) });
    await appendSome(store, 'a-1', 3);
    await makeSealLog({ log: store, ...deps })();
    await appendSome(store, 'a-1', 2); // the crash leaves these unsealed
    now += 5 * 3600_000;
    await appendSome(store, 'a-1', 2); // the first requests after the restart, before its first seal
    await makeSealLog({ log: store, ...deps })();
    expect(await verify(await all(store), { maxUnsealedSeconds: 3600 })).toMatchObject({ problems: [], late_seals: [] });
  });

  it('takes the first seal of a log sealed only now (a sealer turned on, or an upgrade) for what it is', async () => {
    let now = Date.UTC(2026, 10, 30, 6, 0);
    const store = createInMemoryEventStore({ clock: () => new Date(now) });
    for (let i = 0; i < 50; i++) {
      now += 600_000;
      await appendSome(store, 'a-1', 1);
    }
    await makeSealLog({ log: store, ...deps })();
    expect(await verify(await all(store), { maxUnsealedSeconds: 3600 })).toMatchObject({ ok: true, problems: [], late_seals: [] });
  });

  it('finds positions out of order, and says a stream went back rather than that events are missing', async () => {
    const events = await sealedLog();
    const swapped = [events[1]!, events[0]!, ...events.slice(2)];
    expect(await problemsOf(swapped)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^position 1 does not follow 2: events were reordered or inserted$/),
        expect.stringMatching(/^stream a-1 goes back from revision 1 to 0: events were reordered or copied$/),
      ]),
    );
  });

  it("finds an older seal's data copied into the newest seal's row, though its MAC is valid", async () => {
    const events = await sealedLog();
    const [older, newest] = events.filter((e) => e.stream === SEAL_STREAM);
    const report = await verify(events.map((e) => (e === newest ? { ...e, data: older!.data } : e)));
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.problem)).toEqual(expect.arrayContaining([expect.stringMatching(/no more than the seal before it .*an older seal's data was copied into it$/)]));
  });

  it('finds a seal moved to another stream, or covering a position not before its own', async () => {
    const events = await sealedLog();
    const lastSeal = events.filter((e) => e.stream === SEAL_STREAM).at(-1)!;
    const moved = await verify(events.map((e) => (e === lastSeal ? { ...e, stream: `${SEAL_STREAM}2`, revision: 0 } : e)));
    expect(moved.problems.map((p) => p.problem)).toEqual([`LogSealed on stream ${SEAL_STREAM}2, where seals are never written (only on ${SEAL_STREAM}): a seal was moved`]);
    const ahead = await verify(events.map((e) => (e === lastSeal ? { ...e, data: { ...(e.data as object), through: lastSeal.position } } : e)));
    expect(ahead.problems.map((p) => p.problem)).toEqual(expect.arrayContaining([`seal covers position ${lastSeal.position}, not before its own: a seal was altered`]));
  });

  it('reads and reports a row below the first position, however far below (the service reads it by its stream)', async () => {
    const events = await sealedLog();
    const below = { ...events[0]!, position: -(2 ** 62), stream: 'a-1', revision: 6 };
    const report = await verifyLog(fromArray([below, ...events]), deps, { densePositions: true });
    expect(report.problems.map((p) => p.problem)).toEqual(expect.arrayContaining([`a row at position ${-(2 ** 62)}, below the first (1): written behind the service's back, which reads it by its stream`]));
  });
});
