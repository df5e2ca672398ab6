import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DecoyStore } from '../../src/application/ports.js';
import type { AttemptCounts } from '../../src/domain/enrollment/index.js';

/** A store made with room for `capacity` names per app. */
export type DecoyStoreHarness = { readonly subject: DecoyStore; readonly cleanup: () => Promise<void> };
export type DecoyStoreFactory = (capacity: number) => Promise<DecoyStoreHarness>;

const counts = (failures: number, lockedUntil: string | null = null, times: readonly string[] = []): AttemptCounts => ({
  failures,
  locked_until: lockedUntil,
  recent_failures: times,
});

export const decoyStoreContract = (name: string, make: DecoyStoreFactory): void =>
  describe(`DecoyStore contract: ${name}`, () => {
    let store: DecoyStore;
    let cleanup: () => Promise<void>;
    let app: string;
    const useStore = async (capacity: number) => {
      await cleanup?.();
      ({ subject: store, cleanup } = await make(capacity));
    };
    beforeEach(async () => {
      ({ subject: store, cleanup } = await make(100));
      app = `app-${randomUUID()}`;
    });
    afterEach(async () => cleanup());

    /** Writes `value` against `read`: whether it was kept. */
    const put = async (appId: string, id: string, read: Awaited<ReturnType<DecoyStore['read']>>, value: AttemptCounts, writer = 'w') =>
      (await store.write(appId, id, read, value, writer)).written;
    /** One failure counted the way verify-factor.ts counts it: read, decide, write against the read, again when it moved. */
    const countOne = async (appId: string, id: string): Promise<number> => {
      for (let tries = 1; ; tries++) {
        const read = await store.read(appId, id);
        if (await put(appId, id, read, counts((read.counts?.failures ?? 0) + 1))) return tries;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      }
    };

    it('has no counts for a name it was never given', async () => {
      expect(await store.read(app, 'nobody')).toMatchObject({ counts: null, writer: null });
    });

    it('says who wrote a name\'s counts', async () => {
      expect(await put(app, 'ghost', await store.read(app, 'ghost'), counts(1), 'verification-1')).toBe(true);
      expect((await store.read(app, 'ghost')).writer).toBe('verification-1');
      expect(await put(app, 'ghost', await store.read(app, 'ghost'), counts(2), 'verification-2')).toBe(true);
      expect((await store.read(app, 'ghost')).writer).toBe('verification-2');
    });

    it('gives back the counts written, to the millisecond', async () => {
      const kept = counts(2, '2030-01-01T00:05:00.123Z', ['2030-01-01T00:00:00.001Z', '2030-01-01T00:00:01.999Z']);
      expect(await put(app, 'ghost', await store.read(app, 'ghost'), kept)).toBe(true);
      expect((await store.read(app, 'ghost')).counts).toEqual(kept);
      const next = counts(0, null, []);
      expect(await put(app, 'ghost', await store.read(app, 'ghost'), next)).toBe(true);
      expect((await store.read(app, 'ghost')).counts).toEqual(next);
    });

    it('refuses a write against counts that moved since they were read, and keeps the newer ones', async () => {
      const none = await store.read(app, 'ghost');
      expect(await put(app, 'ghost', none, counts(1))).toBe(true);
      // A second writer that read before the first wrote: the name had no counts then.
      expect(await put(app, 'ghost', none, counts(1))).toBe(false);
      const one = await store.read(app, 'ghost');
      expect(await put(app, 'ghost', one, counts(2))).toBe(true);
      expect(await put(app, 'ghost', one, counts(2))).toBe(false);
      expect((await store.read(app, 'ghost')).counts).toEqual(counts(2));
    });

    it('counts each of 20 concurrent failures of one name once', async () => {
      const tries = await Promise.all(Array.from({ length: 20 }, () => countOne(app, 'ghost')));
      expect((await store.read(app, 'ghost')).counts?.failures).toBe(20);
      // They did race: some were refused and counted again.
      expect(tries.some((n) => n > 1)).toBe(true);
    });

    it('keeps names, and apps, apart', async () => {
      const other = `app-${randomUUID()}`;
      await countOne(app, 'a');
      await countOne(app, 'a');
      await countOne(app, 'b');
      await countOne(other, 'a');
      expect((await store.read(app, 'a')).counts?.failures).toBe(2);
      expect((await store.read(app, 'b')).counts?.failures).toBe(1);
      expect((await store.read(other, 'a')).counts?.failures).toBe(1);
    });

    it('keeps at most its capacity of names per app, forgetting the least recently written first', async () => {
      await useStore(3);
      for (const id of ['a', 'b', 'c']) await countOne(app, id);
      await countOne(app, 'a'); // written last now: b is the oldest
      await countOne(app, 'd');
      expect((await store.read(app, 'b')).counts).toBeNull();
      for (const [id, failures] of [['a', 2], ['c', 1], ['d', 1]] as const) expect((await store.read(app, id)).counts?.failures).toBe(failures);
      // A forgotten name starts again from nothing.
      await countOne(app, 'b');
      expect((await store.read(app, 'b')).counts?.failures).toBe(1);
      expect((await store.read(app, 'c')).counts).toBeNull();
    });

    it('says how many names a write pushed out, and never the name it wrote', async () => {
      await useStore(1);
      expect(await store.write(app, 'a', await store.read(app, 'a'), counts(1), 'w')).toEqual({ written: true, forgot: 0 });
      expect(await store.write(app, 'a', await store.read(app, 'a'), counts(2), 'w')).toEqual({ written: true, forgot: 0 });
      expect(await store.write(app, 'b', await store.read(app, 'b'), counts(1), 'w')).toEqual({ written: true, forgot: 1 });
      expect((await store.read(app, 'b')).counts).toEqual(counts(1));
      expect((await store.read(app, 'a')).counts).toBeNull();
      const stale = await store.read(app, 'a');
      await countOne(app, 'a');
      expect(await store.write(app, 'a', stale, counts(9), 'w')).toEqual({ written: false, forgot: 0 });
    });

    it("never forgets one app's names for another's", async () => {
      await useStore(3);
      const other = `app-${randomUUID()}`;
      await countOne(app, 'kept');
      for (let i = 0; i < 10; i++) await countOne(other, `made-up-${i}`);
      expect((await store.read(app, 'kept')).counts?.failures).toBe(1);
    });

    it('forgets a name that is read but not written again in its turn (reads do not keep a name)', async () => {
      await useStore(2);
      await countOne(app, 'a');
      await countOne(app, 'b');
      await store.read(app, 'a');
      await countOne(app, 'c');
      expect((await store.read(app, 'a')).counts).toBeNull();
      expect((await store.read(app, 'b')).counts?.failures).toBe(1);
    });
  });
