/**
 * What every SnapshotStore adapter must do: keep one snapshot per stream, the one of the latest
 * revision offered whatever the order of arrival, and give back a copy of the state as JSON
 * would carry it.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SnapshotStore } from '../../src/application/ports.js';

export type SnapshotStoreHarness = {
  readonly subject: SnapshotStore;
  /** Another store over the same storage, as another process or after a restart; undefined when nothing outlives the store. */
  readonly reopen?: () => Promise<SnapshotStore>;
  readonly cleanup: () => Promise<void>;
};

const state = {
  kind: 'FACTOR',
  status: 'ACTIVE',
  secret: { key_id: 'k-1', iv: 'aXY=', ciphertext: 'Y3Q=', tag: 'dGFn' },
  totp: { digits: 6, period: 30, algorithm: 'SHA1' },
  last_step: 58_000_000,
  failures: 0,
  locked_until: null,
  activated_before: true,
  code_hashes: ['a1', 'b2'],
  label: 'Zoë ✓ 日本',
};

export const snapshotStoreContract = (name: string, make: () => Promise<SnapshotStoreHarness>): void =>
  describe(`SnapshotStore contract: ${name}`, () => {
    let harness: SnapshotStoreHarness;
    let store: SnapshotStore;
    beforeEach(async () => {
      harness = await make();
      store = harness.subject;
    });
    afterEach(async () => harness.cleanup());

    it('has nothing for a stream never saved', async () => {
      expect(await store.load('enrollment-none')).toBeUndefined();
    });

    it('gives back what was saved: stream, revision, version and the state, nested values included', async () => {
      await store.save({ stream: 'enrollment-1', revision: 49, version: 'enrollment/1', state });
      expect(await store.load('enrollment-1')).toEqual({ stream: 'enrollment-1', revision: 49, version: 'enrollment/1', state });
    });

    it('keeps the latest revision whatever order saves arrive in', async () => {
      await store.save({ stream: 's', revision: 99, version: 'v1', state: { n: 99 } });
      await store.save({ stream: 's', revision: 49, version: 'v1', state: { n: 49 } }); // a slower writer
      expect(await store.load('s')).toMatchObject({ revision: 99, state: { n: 99 } });
      await store.save({ stream: 's', revision: 99, version: 'v2', state: { n: -1 } }); // same revision: first one stays
      expect(await store.load('s')).toMatchObject({ revision: 99, version: 'v1', state: { n: 99 } });
      await store.save({ stream: 's', revision: 149, version: 'v2', state: { n: 149 } });
      expect(await store.load('s')).toEqual({ stream: 's', revision: 149, version: 'v2', state: { n: 149 } });
    });

    it('keeps streams apart', async () => {
      await store.save({ stream: 'a', revision: 1, version: 'v', state: { who: 'a' } });
      await store.save({ stream: 'b', revision: 7, version: 'v', state: { who: 'b' } });
      expect(await store.load('a')).toMatchObject({ revision: 1, state: { who: 'a' } });
      expect(await store.load('b')).toMatchObject({ revision: 7, state: { who: 'b' } });
      expect(await store.load('c')).toBeUndefined();
    });

    it('gives a copy: changing a loaded state or the saved object changes nothing stored', async () => {
      const saved = { list: [1, 2], nested: { x: 1 } };
      await store.save({ stream: 's', revision: 0, version: 'v', state: saved });
      saved.list.push(3);
      const loaded = (await store.load('s'))!.state as { list: number[]; nested: { x: number } };
      loaded.nested.x = 2;
      expect((await store.load('s'))!.state).toEqual({ list: [1, 2], nested: { x: 1 } });
    });

    it('carries states as JSON does: undefined properties are dropped', async () => {
      await store.save({ stream: 's', revision: 0, version: 'v', state: { kept: 1, dropped: undefined } });
      expect(Object.keys((await store.load('s'))!.state as object)).toEqual(['kept']);
    });

    it('is shared by every store over the same storage', async () => {
      if (!harness.reopen) return; // nothing outlives an in-memory store
      await store.save({ stream: 's', revision: 3, version: 'v', state: { n: 3 } });
      const other = await harness.reopen();
      expect(await other.load('s')).toMatchObject({ revision: 3, state: { n: 3 } });
      await other.save({ stream: 's', revision: 5, version: 'v', state: { n: 5 } });
      expect(await store.load('s')).toMatchObject({ revision: 5 });
    });
  });
