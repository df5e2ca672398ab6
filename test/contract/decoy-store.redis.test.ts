import { describe, expect, it } from '@jest/globals';
import { redisDecoyStore } from '../../src/infrastructure/redis/decoy-store.js';
import { connectTestRedis } from '../support/redis.js';
import { decoyStoreContract } from './decoy-store.contract.js';

decoyStoreContract('redis', async (capacity) => {
  const { redis, prefix, close } = await connectTestRedis();
  return { subject: redisDecoyStore(redis, { prefix, capacity }), cleanup: close };
});

describe('redis decoy store', () => {
  const one = { failures: 1, locked_until: null, recent_failures: ['2030-01-01T00:00:00.000Z'] };

  it('keeps an app in two keys under its hash tag, expiring 30 days after its last write', async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const store = redisDecoyStore(redis, { prefix, capacity: 10 });
      expect((await store.write('app-1', 'ghost', await store.read('app-1', 'ghost'), one, 'w')).written).toBe(true);
      expect((await redis.keys(`${prefix}*`)).sort()).toEqual([`${prefix}decoy:{app-1}:counts`, `${prefix}decoy:{app-1}:order`]);
      for (const key of ['counts', 'order']) {
        const ttl = await redis.pttl(`${prefix}decoy:{app-1}:${key}`);
        expect(ttl).toBeGreaterThan(30 * 86_400_000 - 60_000);
        expect(ttl).toBeLessThanOrEqual(30 * 86_400_000);
      }
    } finally {
      await close();
    }
  });

  it('reads a stored value it cannot decode as no counts, and replaces it on the next write', async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const store = redisDecoyStore(redis, { prefix, capacity: 10 });
      for (const junk of ['not json', '{"f":-1,"l":null,"r":[],"b":"w"}', '{"f":1,"l":"soon","r":[],"b":"w"}', '{"f":1,"l":null,"r":[1.5],"b":"w"}', '{"f":1,"l":null,"r":[]}', 'null']) {
        await redis.hset(`${prefix}decoy:{app-1}:counts`, 'ghost', junk);
        const read = await store.read('app-1', 'ghost');
        expect([junk, read.counts]).toEqual([junk, null]);
        expect((await store.write('app-1', 'ghost', read, one, 'w')).written).toBe(true);
        expect((await store.read('app-1', 'ghost')).counts).toEqual(one);
      }
    } finally {
      await close();
    }
  });

  it("orders an app's names by its own sequence, not by Redis's clock", async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const store = redisDecoyStore(redis, { prefix, capacity: 10 });
      for (const id of ['a', 'b', 'a', 'c']) await store.write('app-1', id, await store.read('app-1', id), one, 'w');
      expect(await redis.zrange(`${prefix}decoy:{app-1}:order`, '0', '-1', 'WITHSCORES')).toEqual(['b', '2', 'a', '3', 'c', '4']);
    } finally {
      await close();
    }
  });

  it("starts an app's names over when the order was lost without the counts (evicted under maxmemory), rather than grow past the capacity", async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const store = redisDecoyStore(redis, { prefix, capacity: 3 });
      for (const id of ['a', 'b', 'c']) await store.write('app-1', id, await store.read('app-1', id), one, 'w');
      await redis.del(`${prefix}decoy:{app-1}:order`);
      expect((await store.write('app-1', 'd', await store.read('app-1', 'd'), one, 'w')).written).toBe(true);
      expect(await redis.hkeys(`${prefix}decoy:{app-1}:counts`)).toEqual(['#seq', 'd']);
      for (const id of ['e', 'f', 'g']) await store.write('app-1', id, await store.read('app-1', id), one, 'w');
      expect(await redis.hlen(`${prefix}decoy:{app-1}:counts`)).toBe(4);
    } finally {
      await close();
    }
  });

  it('forgets at most 100 names a write when its capacity was lowered', async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const roomy = redisDecoyStore(redis, { prefix, capacity: 1000 });
      for (let i = 0; i < 250; i++) await roomy.write('app-1', `n${i}`, await roomy.read('app-1', `n${i}`), one, 'w');
      const tight = redisDecoyStore(redis, { prefix, capacity: 10 });
      const size = async () => (await redis.hlen(`${prefix}decoy:{app-1}:counts`)) - 1; // less the sequence
      await tight.write('app-1', 'late-1', await tight.read('app-1', 'late-1'), one, 'w');
      expect(await size()).toBe(151);
      await tight.write('app-1', 'late-2', await tight.read('app-1', 'late-2'), one, 'w');
      expect(await size()).toBe(52);
      await tight.write('app-1', 'late-3', await tight.read('app-1', 'late-3'), one, 'w');
      expect([await size(), await redis.zcard(`${prefix}decoy:{app-1}:order`)]).toEqual([10, 10]);
      expect((await tight.read('app-1', 'late-1')).counts).toEqual(one);
    } finally {
      await close();
    }
  });
});
