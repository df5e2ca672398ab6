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
      expect(await store.write('app-1', 'ghost', await store.read('app-1', 'ghost'), one)).toBe(true);
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
      for (const junk of ['not json', '{"f":-1,"l":null,"r":[]}', '{"f":1,"l":"soon","r":[]}', '{"f":1,"l":null,"r":[1.5]}', 'null']) {
        await redis.hset(`${prefix}decoy:{app-1}:counts`, 'ghost', junk);
        const read = await store.read('app-1', 'ghost');
        expect([junk, read.counts]).toEqual([junk, null]);
        expect(await store.write('app-1', 'ghost', read, one)).toBe(true);
        expect((await store.read('app-1', 'ghost')).counts).toEqual(one);
      }
    } finally {
      await close();
    }
  });

  it('forgets at most 100 names a write when its capacity was lowered', async () => {
    const { redis, prefix, close } = await connectTestRedis();
    try {
      const roomy = redisDecoyStore(redis, { prefix, capacity: 1000 });
      for (let i = 0; i < 250; i++) await roomy.write('app-1', `n${i}`, await roomy.read('app-1', `n${i}`), one);
      const tight = redisDecoyStore(redis, { prefix, capacity: 10 });
      const size = () => redis.hlen(`${prefix}decoy:{app-1}:counts`);
      await tight.write('app-1', 'late-1', await tight.read('app-1', 'late-1'), one);
      expect(await size()).toBe(151);
      await tight.write('app-1', 'late-2', await tight.read('app-1', 'late-2'), one);
      expect(await size()).toBe(52);
      await tight.write('app-1', 'late-3', await tight.read('app-1', 'late-3'), one);
      expect([await size(), await redis.zcard(`${prefix}decoy:{app-1}:order`)]).toEqual([10, 10]);
      expect((await tight.read('app-1', 'late-1')).counts).toEqual(one);
    } finally {
      await close();
    }
  });
});
