import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { DecoyStore } from '../../src/application/ports.js';
import { redisDecoyStore } from '../../src/infrastructure/redis/decoy-store.js';
import { connectTestRedis } from '../support/redis.js';
import { decoyStoreContract } from './decoy-store.contract.js';

decoyStoreContract('redis', async (capacity) => {
  const { redis, prefix, close } = await connectTestRedis();
  return { subject: redisDecoyStore(redis, { prefix, capacity }), cleanup: close };
});

describe('redis decoy store', () => {
  const one = { failures: 1, locked_until: null, recent_failures: ['2030-01-01T00:00:00.000Z'] };
  let redis: Redis;
  let prefix: string;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ redis, prefix, close } = await connectTestRedis());
  });
  afterEach(async () => close());

  const storeOf = (capacity: number) => redisDecoyStore(redis, { prefix, capacity });
  /** One failure of `id` in app-1, written against what was read just before. */
  const fail = async (store: DecoyStore, id: string) => store.write('app-1', id, await store.read('app-1', id), one, 'w');
  const key = (name: 'counts' | 'order') => `${prefix}decoy:{app-1}:${name}`;

  it('keeps an app in two keys under its hash tag, expiring 30 days after its last write', async () => {
    expect((await fail(storeOf(10), 'ghost')).written).toBe(true);
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual([key('counts'), key('order')]);
    for (const name of ['counts', 'order'] as const) {
      const ttl = await redis.pttl(key(name));
      expect(ttl).toBeGreaterThan(30 * 86_400_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(30 * 86_400_000);
    }
  });

  it('reads a stored value it cannot decode as no counts, and replaces it on the next write', async () => {
    const store = storeOf(10);
    for (const junk of ['not json', '{"f":-1,"l":null,"r":[],"b":"w"}', '{"f":1,"l":"soon","r":[],"b":"w"}', '{"f":1,"l":null,"r":[1.5],"b":"w"}', '{"f":1,"l":null,"r":[]}', 'null']) {
      await redis.hset(key('counts'), 'ghost', junk);
      const read = await store.read('app-1', 'ghost');
      expect([junk, read.counts]).toEqual([junk, null]);
      expect((await store.write('app-1', 'ghost', read, one, 'w')).written).toBe(true);
      expect((await store.read('app-1', 'ghost')).counts).toEqual(one);
    }
  });

  it("orders an app's names by its own sequence, not by Redis's clock", async () => {
    const store = storeOf(10);
    for (const id of ['a', 'b', 'a', 'c']) await fail(store, id);
    expect(await redis.zrange(key('order'), '0', '-1', 'WITHSCORES')).toEqual(['b', '2', 'a', '3', 'c', '4']);
  });

  it("starts an app's names over when the order was lost without the counts (evicted under maxmemory), rather than grow past the capacity", async () => {
    const store = storeOf(3);
    for (const id of ['a', 'b', 'c']) await fail(store, id);
    await redis.del(key('order'));
    expect((await fail(store, 'd')).written).toBe(true);
    expect(await redis.hkeys(key('counts'))).toEqual(['#seq', 'd']);
    for (const id of ['e', 'f', 'g']) await fail(store, id);
    expect(await redis.hlen(key('counts'))).toBe(4);
  });

  it('forgets at most 100 names a write when its capacity was lowered', async () => {
    const roomy = storeOf(1000);
    for (let i = 0; i < 250; i++) await fail(roomy, `n${i}`);
    const tight = storeOf(10);
    const size = async () => (await redis.hlen(key('counts'))) - 1; // less the sequence
    await fail(tight, 'late-1');
    expect(await size()).toBe(151);
    await fail(tight, 'late-2');
    expect(await size()).toBe(52);
    await fail(tight, 'late-3');
    expect([await size(), await redis.zcard(key('order'))]).toEqual([10, 10]);
    expect((await tight.read('app-1', 'late-1')).counts).toEqual(one);
  });
});
