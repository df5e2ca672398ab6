/**
 * What every SnapshotStore adapter must do: keep one snapshot per stream (the last saved), give
 * back a copy of the state as JSON would carry it, and keep the event id and seal verbatim.
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

    it('gives back what was saved: stream, revision, event id, version, seal and the state, nested values included', async () => {
      const saved = { stream: 'enrollment-1', revision: 49, event_id: '3f2a6c1e-0000-4000-8000-000000000001', version: 'enrollment/1', state, seal: 'f'.repeat(64) };
      await store.save(saved);
      expect(await store.load('enrollment-1')).toEqual(saved);
    });

    it('gives back no seal when none was saved', async () => {
      await store.save({ stream: 's', revision: 0, event_id: 'e1', version: 'v', state: {} });
      expect(await store.load('s')).toEqual({ stream: 's', revision: 0, event_id: 'e1', version: 'v', state: {} });
    });

    it('keeps the last snapshot saved, whatever its revision (one no longer matching the log is replaced at the next interval)', async () => {
      await store.save({ stream: 's', revision: 99, event_id: 'e500', version: 'v1', state: { n: 99 } });
      await store.save({ stream: 's', revision: 49, event_id: 'e300', version: 'v2', state: { n: 49 } });
      expect(await store.load('s')).toEqual({ stream: 's', revision: 49, event_id: 'e300', version: 'v2', state: { n: 49 } });
    });

    it('keeps streams apart', async () => {
      await store.save({ stream: 'a', revision: 1, event_id: 'e1', version: 'v', state: { who: 'a' } });
      await store.save({ stream: 'b', revision: 7, event_id: 'e9', version: 'v', state: { who: 'b' } });
      expect(await store.load('a')).toMatchObject({ revision: 1, state: { who: 'a' } });
      expect(await store.load('b')).toMatchObject({ revision: 7, state: { who: 'b' } });
      expect(await store.load('c')).toBeUndefined();
    });

    it('gives a copy: changing a loaded state or the saved object changes nothing stored', async () => {
      const saved = { list: [1, 2], nested: { x: 1 } };
      await store.save({ stream: 's', revision: 0, event_id: 'e1', version: 'v', state: saved });
      saved.list.push(3);
      const loaded = (await store.load('s'))!.state as { list: number[]; nested: { x: number } };
      loaded.nested.x = 2;
      expect((await store.load('s'))!.state).toEqual({ list: [1, 2], nested: { x: 1 } });
    });

    it('carries states as JSON does: undefined properties are dropped, key order and any string kept', async () => {
      await store.save({ stream: 's', revision: 0, event_id: 'e1', version: 'v', state: { kept: 1, dropped: undefined } });
      expect(Object.keys((await store.load('s'))!.state as object)).toEqual(['kept']);
      const odd = { z: 1, a: 2, nul: 'a\u0000b', lone: '\ud800', emoji: '😀' };
      await store.save({ stream: 's', revision: 1, event_id: 'e2', version: 'v', state: odd });
      const back = (await store.load('s'))!.state;
      expect(back).toEqual(odd);
      expect(JSON.stringify(back)).toBe(JSON.stringify(odd)); // what the seal is computed over
    });

    it('is shared by every store over the same storage', async () => {
      if (!harness.reopen) return; // nothing outlives an in-memory store
      await store.save({ stream: 's', revision: 3, event_id: 'e4', version: 'v', state: { n: 3 } });
      const other = await harness.reopen();
      expect(await other.load('s')).toMatchObject({ revision: 3, state: { n: 3 } });
      await other.save({ stream: 's', revision: 5, event_id: 'e6', version: 'v', state: { n: 5 } });
      expect(await store.load('s')).toMatchObject({ revision: 5 });
    });
  });
