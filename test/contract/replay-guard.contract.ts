import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { ReplayGuard } from '../../src/application/ports.js';

/**
 * `advance`: a fake clock for in-process adapters, a real sleep for stores with their own clock.
 * `now` reads that time in ms, so a test can wait until a moment measured from an earlier claim.
 */
export type ReplayGuardHarness = {
  readonly subject: ReplayGuard;
  readonly advance: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly cleanup: () => Promise<void>;
};
export type ReplayGuardFactory = () => Promise<ReplayGuardHarness>;

export const replayGuardContract = (name: string, make: ReplayGuardFactory): void =>
  describe(`ReplayGuard contract: ${name}`, () => {
    let claim: ReplayGuard;
    let advance: (ms: number) => Promise<void>;
    let now: () => number;
    let cleanup: () => Promise<void>;
    /** Waits until `ms` after `from` (at once if that has passed). */
    const until = (from: number, ms: number) => advance(Math.max(0, from + ms - now()));
    let key: (label: string) => string;
    beforeEach(async () => {
      ({ subject: claim, advance, now, cleanup } = await make());
      const run = randomUUID();
      key = (label) => `replay-test:${run}:${label}`;
    });
    afterEach(async () => cleanup());

    it('grants the first claim and refuses every later one', async () => {
      const k = key('code');
      expect(await claim(k, 60)).toBe(true);
      expect(await claim(k, 60)).toBe(false);
      expect(await claim(k, 60)).toBe(false);
    });

    it('keeps keys independent', async () => {
      expect(await claim(key('a'), 60)).toBe(true);
      expect(await claim(key('b'), 60)).toBe(true);
      expect(await claim(key('a'), 60)).toBe(false);
    });

    it('still refuses just before the TTL and grants again after it', async () => {
      const k = key('ttl');
      expect(await claim(k, 2)).toBe(true);
      await advance(1000);
      expect(await claim(k, 2)).toBe(false);
      await advance(1200);
      expect(await claim(k, 2)).toBe(true);
      expect(await claim(k, 2)).toBe(false);
    });

    it('does not extend the TTL with refused claims', async () => {
      const k = key('refused');
      // Times from when the first claim was answered (it was stored by then); TTL 3 s.
      expect(await claim(k, 3)).toBe(true);
      const first = now();
      await until(first, 1500);
      expect(await claim(k, 3)).toBe(false); // 1.5 s before the TTL ends
      // Past the TTL; had the refused claim (1.5 s after the first or later) extended it, it would run to 4.5 s or more.
      await until(first, 3500);
      expect(await claim(k, 3)).toBe(true);
    });

    it('grants exactly one of 50 concurrent claims', async () => {
      const k = key('race');
      const results = await Promise.all(Array.from({ length: 50 }, () => claim(k, 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
