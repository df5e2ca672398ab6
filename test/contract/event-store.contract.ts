import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { logEvents } from '../../src/application/audit/log-events.js';
import { makeSealLog } from '../../src/application/audit/seal-log.js';
import { verifyLog } from '../../src/application/audit/verify-log.js';
import { sha256LogChain } from '../../src/infrastructure/audit/log-chain.js';
import { createSealSigner } from '../../src/infrastructure/audit/seal-signer.js';
import { safeEqual } from '../../src/infrastructure/crypto/keyed-hash.js';
import { createKeyring } from '../../src/infrastructure/crypto/keyring.js';
import { WrongExpectedRevision, type EventStore, type NewEvent, type RecordedEvent } from '../../src/application/ports.js';

export type EventStoreFactory = () => Promise<{ subject: EventStore; cleanup: () => Promise<void> }>;

const event = (type: string, data: unknown = {}): NewEvent => ({ type, data });
const events = (count: number, prefix = 'Happened'): NewEvent[] => Array.from({ length: count }, (_, i) => event(prefix, { i }));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

const eventually = async (condition: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const expectWrongRevision = (error: unknown, stream: string, actual: number | 'no_stream'): void => {
  expect(error).toBeInstanceOf(WrongExpectedRevision);
  expect(error).toMatchObject({ stream, actual });
};

export const eventStoreContract = (name: string, make: EventStoreFactory): void =>
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ subject: store, cleanup } = await make());
    });
    afterEach(async () => cleanup());

    describe('append and read', () => {
      it('appends to a new stream with no_stream and records ids, revisions, positions, time', async () => {
        const before = Date.now();
        const result = await store.append('order-1', [event('Placed', { total: 3 }), event('Paid')], 'no_stream');
        const stored = await store.readStream('order-1');
        expect(result).toEqual({ revision: 1, position: stored[1]!.position });
        expect(stored.map(({ stream, revision, type, data }) => ({ stream, revision, type, data }))).toEqual([
          { stream: 'order-1', revision: 0, type: 'Placed', data: { total: 3 } },
          { stream: 'order-1', revision: 1, type: 'Paid', data: {} },
        ]);
        // Positions need not be dense (KurrentDB's are log offsets), only >= 1 and increasing.
        expect(stored[0]!.position).toBeGreaterThanOrEqual(1);
        expect(stored[1]!.position).toBeGreaterThan(stored[0]!.position);
        for (const recorded of stored) {
          expect(recorded.id).toMatch(UUID);
          expect(new Date(recorded.recorded_at).toISOString()).toBe(recorded.recorded_at);
          expect(Date.parse(recorded.recorded_at)).toBeGreaterThanOrEqual(before - 1000);
        }
        expect(stored[0]!.id).not.toBe(stored[1]!.id);
      });

      it('rejects no_stream on an existing stream with the actual revision', async () => {
        await store.append('s', events(2), 'no_stream');
        const error = await rejectionOf(store.append('s', events(1), 'no_stream'));
        expectWrongRevision(error, 's', 1);
        expect(error).toMatchObject({ expected: 'no_stream' });
        expect(await store.readStream('s')).toHaveLength(2);
      });

      it('rejects a stale or future revision, and a revision on a missing stream', async () => {
        const { position } = await store.append('s', events(3), 'no_stream');
        expectWrongRevision(await rejectionOf(store.append('s', events(1), 1)), 's', 2);
        expectWrongRevision(await rejectionOf(store.append('s', events(1), 3)), 's', 2);
        expectWrongRevision(await rejectionOf(store.append('missing', events(1), 0)), 'missing', 'no_stream');
        expect(await store.headPosition()).toBe(position);
      });

      it('accepts the current revision and numbers revisions 0..n-1 across appends', async () => {
        expect(await store.append('s', events(1), 'no_stream')).toMatchObject({ revision: 0 });
        expect(await store.append('s', events(2), 0)).toMatchObject({ revision: 2 });
        expect(await store.append('s', events(3), 2)).toMatchObject({ revision: 5 });
        const stored = await store.readStream('s');
        expect(stored.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(stored.map((e) => e.data)).toEqual([{ i: 0 }, { i: 0 }, { i: 1 }, { i: 0 }, { i: 1 }, { i: 2 }]);
      });

      it("appends with 'any' to new and existing streams", async () => {
        expect(await store.append('s', events(1), 'any')).toMatchObject({ revision: 0 });
        expect(await store.append('s', events(1), 'any')).toMatchObject({ revision: 1 });
      });

      it('treats appending no events as a no-op that still checks the revision', async () => {
        expectWrongRevision(await rejectionOf(store.append('s', [], 0)), 's', 'no_stream');
        await store.append('s', [], 'no_stream');
        expect(await store.readStream('s')).toEqual([]);
        const { position } = await store.append('s', events(2), 'no_stream');
        expect(await store.append('s', [], 1)).toEqual({ revision: 1, position });
        expectWrongRevision(await rejectionOf(store.append('s', [], 0)), 's', 1);
        expect(await store.headPosition()).toBe(position);
      });

      it('returns [] for an unknown stream and only the asked stream otherwise', async () => {
        expect(await store.readStream('nope')).toEqual([]);
        await store.append('a', events(1, 'A'), 'no_stream');
        await store.append('b', events(1, 'B'), 'no_stream');
        await store.append('a', events(1, 'A'), 0);
        expect((await store.readStream('a')).map((e) => `${e.type}${e.revision}`)).toEqual(['A0', 'A1']);
      });

      it('gives strictly increasing positions across streams, starting at 1', async () => {
        for (let i = 0; i < 6; i += 1) await store.append(`s-${i % 3}`, events(1), 'any');
        const all = await store.readAll(0, 100);
        expect(all.map((e) => e.stream)).toEqual(['s-0', 's-1', 's-2', 's-0', 's-1', 's-2']);
        expect(all[0]!.position).toBeGreaterThanOrEqual(1);
        all.slice(1).forEach((e, i) => expect(e.position).toBeGreaterThan(all[i]!.position));
        expect(await store.headPosition()).toBe(all.at(-1)!.position);
      });

      it('pages through readAll in position order', async () => {
        await store.append('a', events(3), 'no_stream');
        await store.append('b', events(2), 'no_stream');
        const all = await store.readAll(0, 100);
        expect(all).toHaveLength(5);
        const pages: RecordedEvent[][] = [];
        let after = 0;
        for (;;) {
          const page = [...(await store.readAll(after, 2))];
          if (page.length === 0) break;
          pages.push(page);
          after = page.at(-1)!.position;
        }
        expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toEqual(all);
        expect(await store.readAll(all[2]!.position, 100)).toEqual(all.slice(3));
        expect(await store.readAll(0, 0)).toEqual([]);
      });

      it('reports the head position, 0 when empty', async () => {
        expect(await store.headPosition()).toBe(0);
        const { position } = await store.append('s', events(4), 'no_stream');
        expect(await store.headPosition()).toBe(position);
      });

      it('lets exactly one of 20 concurrent appends at the same revision win', async () => {
        await store.append('race', events(1), 'no_stream');
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.append('race', [event('Raced', { i })], 0)));
        const winners = results.filter((r) => r.status === 'fulfilled');
        const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        losers.forEach((error) => expectWrongRevision(error, 'race', 1));
        expect(await store.readStream('race')).toHaveLength(2);
      });
    });

    describe('readStream from a revision', () => {
      /** Stream `s` of 5 events, interleaved with streams whose names start or end like it. */
      const appendFive = async (): Promise<readonly RecordedEvent[]> => {
        await store.append('s', events(2), 'no_stream');
        await store.append('s-2', events(3, 'Longer'), 'no_stream');
        await store.append('x', events(1, 'Shorter'), 'no_stream');
        await store.append('s', events(3), 1);
        await store.append('s-2', events(1, 'Longer'), 2);
        return store.readStream('s');
      };

      it('returns exactly the events from that revision on, as the full read has them', async () => {
        const full = await appendFive();
        expect(full.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
        for (const from of [0, 1, 2, 4]) {
          const tail = await store.readStream('s', { fromRevision: from });
          expect(tail.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4].slice(from));
          expect(tail).toEqual(full.slice(from));
        }
      });

      it('returns [] from past the last revision, and the new events once appended', async () => {
        const full = await appendFive();
        expect(await store.readStream('s', { fromRevision: 5 })).toEqual([]);
        expect(await store.readStream('s', { fromRevision: 99 })).toEqual([]);
        await store.append('s', [event('Later', { n: 5 }), event('Later', { n: 6 })], 4);
        const tail = await store.readStream('s', { fromRevision: 5 });
        expect(tail.map(({ revision, type, data }) => ({ revision, type, data }))).toEqual([
          { revision: 5, type: 'Later', data: { n: 5 } },
          { revision: 6, type: 'Later', data: { n: 6 } },
        ]);
        expect(await store.readStream('s', { fromRevision: 3 })).toEqual([...full.slice(3), ...tail]);
      });

      it('reads the whole stream from revision 0, as with no option', async () => {
        const full = await appendFive();
        expect(full).toHaveLength(5);
        expect(await store.readStream('s', { fromRevision: 0 })).toEqual(full);
        expect(await store.readStream('s', {})).toEqual(full);
      });

      it('returns [] for a missing stream from any revision', async () => {
        await appendFive();
        for (const from of [0, 1, 5]) expect(await store.readStream('nope', { fromRevision: from })).toEqual([]);
      });

      it("never includes other streams' events", async () => {
        await appendFive();
        for (const [stream, count] of [['s', 5], ['s-2', 4], ['x', 1]] as const) {
          const tail = await store.readStream(stream, { fromRevision: 1 });
          expect(tail).toHaveLength(count - 1);
          expect(tail.every((e) => e.stream === stream)).toBe(true);
        }
      });

      it('returns at most limit events from that revision, as the full read has them', async () => {
        const full = await appendFive();
        for (const from of [0, 2, 4, 5]) {
          for (const limit of [1, 2, 5, 9]) expect(await store.readStream('s', { fromRevision: from, limit })).toEqual(full.slice(from, from + limit));
        }
        expect(await store.readStream('s', { limit: 3 })).toEqual(full.slice(0, 3));
        expect(await store.readStream('nope', { limit: 3 })).toEqual([]);
      });

      it('rejects an invalid limit with a RangeError', async () => {
        await appendFive();
        for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
          expect(await rejectionOf(store.readStream('s', { limit }))).toBeInstanceOf(RangeError);
        }
      });

      it('rejects an invalid fromRevision with a RangeError', async () => {
        await appendFive();
        for (const from of [-1, 0.5, 2.5, Number.NaN, Number.POSITIVE_INFINITY, -0.5, Number.MAX_SAFE_INTEGER + 1]) {
          for (const stream of ['s', 'nope']) {
            expect(await rejectionOf(store.readStream(stream, { fromRevision: from }))).toBeInstanceOf(RangeError);
          }
        }
      });
    });

    describe('payloads', () => {
      it('round-trips metadata, and defaults it to {}', async () => {
        const metadata = { schema_version: 2, request_id: 'req-1', actor: 'admin:7', extra: { nested: [1, 'two', null] } };
        await store.append('s', [{ type: 'WithMeta', data: { ok: true }, metadata }, event('Without')], 'no_stream');
        const [withMeta, without] = await store.readStream('s');
        expect(withMeta!.metadata).toEqual(metadata);
        expect(without!.metadata).toEqual({});
      });

      it('round-trips a 100 KB payload', async () => {
        const data = { blob: 'x'.repeat(100 * 1024), items: Array.from({ length: 500 }, (_, i) => ({ i, s: `item-${i}` })) };
        await store.append('big', [event('Big', data)], 'no_stream');
        expect((await store.readStream('big'))[0]!.data).toEqual(data);
      });

      it('round-trips unicode in stream names, types, data and metadata', async () => {
        const text = 'héllo 世界 🔐 عربى e\u0301 \u{1F469}\u200D\u{1F4BB}';
        const data = { text, escaped: 'quote" back\\ nul\u0000 line\n' };
        await store.append(`flux-${text}`, [{ type: 'Événement-🔑', data, metadata: { actor: text } }], 'no_stream');
        const [stored] = await store.readStream(`flux-${text}`);
        expect(stored).toMatchObject({ stream: `flux-${text}`, type: 'Événement-🔑', data, metadata: { actor: text } });
      });

      it('keeps stored events safe from mutation of inputs and outputs', async () => {
        const data = { list: [1, 2], inner: { v: 'a' } };
        const metadata = { actor: 'me' };
        await store.append('s', [{ type: 'T', data, metadata }], 'no_stream');
        data.list.push(3);
        data.inner.v = 'changed';
        const [first] = await store.readStream('s');
        expect(first!.data).toEqual({ list: [1, 2], inner: { v: 'a' } });
        (first!.data as { list: number[] }).list.push(99);
        (first!.metadata as Record<string, unknown>)['actor'] = 'someone else';
        const [again] = await store.readAll(0, 1);
        expect(again!.data).toEqual({ list: [1, 2], inner: { v: 'a' } });
        expect(again!.metadata).toEqual({ actor: 'me' });
      });
    });

    describe('audit chain', () => {
      // The chain is recomputed from what the store gives back, possibly years later: every
      // field must read back the same, every time, or a sealed log stops verifying.
      it('gives events back exactly enough for a sealed log to verify, and to keep verifying', async () => {
        const deps = { chain: sha256LogChain, signer: createSealSigner(createKeyring([{ id: 'k1', key: Buffer.alloc(32, 3) }]), safeEqual) };
        const text = 'héllo 世界 🔐 quote" nul\u0000';
        await store.append('s-1', [{ type: 'A', data: { z: 1, a: [0.5, -2, 1e21, null, { text }] }, metadata: { request_id: 'r', actor: text } }], 'no_stream');
        await store.append('s-2', [event('B'), event('C', { deep: { b: true, a: false } })], 'no_stream');
        expect(await makeSealLog({ log: store, ...deps })()).toMatchObject({ sealed: true, count: 3 });
        await store.append('s-1', [event('D')], 0);
        const first = await verifyLog(logEvents(store), deps);
        expect(first).toMatchObject({ ok: true, events: 5, seals: 1, sealed_events: 3, unsealed_events: 2, problems: [] });
        expect(await verifyLog(logEvents(store), deps)).toEqual(first);
      });
    });

    describe('subscribe', () => {
      it('delivers historical then live events in order, exactly once, one at a time', async () => {
        await store.append('a', events(3), 'no_stream');
        const seen: number[] = [];
        let running = 0;
        let overlapped = false;
        const subscription = store.subscribe(0, async (recorded) => {
          running += 1;
          overlapped ||= running > 1;
          await new Promise((resolve) => setTimeout(resolve, 1));
          seen.push(recorded.position);
          running -= 1;
        });
        await eventually(() => seen.length === 3);
        await store.append('b', events(2), 'no_stream');
        await store.append('a', events(1), 2);
        await eventually(() => seen.length === 6);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await subscription.close();
        expect(seen).toEqual((await store.readAll(0, 100)).map((e) => e.position));
        expect(overlapped).toBe(false);
      });

      it('starts after the given position', async () => {
        await store.append('a', events(5), 'no_stream');
        const all = await store.readAll(0, 100);
        const seen: number[] = [];
        const subscription = store.subscribe(all[2]!.position, async (recorded) => void seen.push(recorded.position));
        await eventually(() => seen.length === 2);
        await subscription.close();
        expect(seen).toEqual(all.slice(3).map((e) => e.position));
      });

      it('neither skips nor repeats events appended while catching up', async () => {
        for (let batch = 0; batch < 6; batch += 1) await store.append(`hist-${batch % 2}`, events(50), 'any');
        const seen: number[] = [];
        let appendedFromHandler = 0;
        const subscription = store.subscribe(0, async (recorded) => {
          seen.push(recorded.position);
          if (seen.length % 40 === 0 && appendedFromHandler < 5) {
            appendedFromHandler += 1;
            await store.append('from-handler', events(3), 'any');
          }
        });
        const outside = Array.from({ length: 10 }, (_, i) => store.append(`outside-${i % 3}`, events(2), 'any'));
        await Promise.all(outside);
        const total = 300 + 5 * 3 + 10 * 2;
        await eventually(() => seen.length >= total);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await subscription.close();
        expect(seen).toEqual((await store.readAll(0, 1000)).map((e) => e.position));
        expect(seen).toHaveLength(total);
      });

      it('stops delivering after close', async () => {
        const seen: string[] = [];
        const subscription = store.subscribe(0, async (recorded) => void seen.push(recorded.type));
        await store.append('s', [event('Before')], 'no_stream');
        await eventually(() => seen.length === 1);
        await subscription.close();
        await store.append('s', [event('After')], 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(seen).toEqual(['Before']);
      });

      it('keeps independent subscriptions apart', async () => {
        const first: number[] = [];
        const second: number[] = [];
        const a = store.subscribe(0, async (recorded) => void first.push(recorded.position));
        await store.append('s', events(2), 'no_stream');
        await eventually(() => first.length === 2);
        await a.close();
        const b = store.subscribe(first[0]!, async (recorded) => void second.push(recorded.position));
        const { position: third } = await store.append('s', events(1), 1);
        await eventually(() => second.length === 2);
        await b.close();
        expect(first).toEqual((await store.readAll(0, 2)).map((e) => e.position));
        expect(second).toEqual([first[1], third]);
      });
    });
  });
