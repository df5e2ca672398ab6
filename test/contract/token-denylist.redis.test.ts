import { redisTokenDenylist } from '../../src/infrastructure/redis/token-denylist.js';
import { connectTestRedis } from '../support/redis.js';
import { tokenDenylistContract } from './token-denylist.contract.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Redis expires keys on its own clock (this machine's), so `advance` really waits.
tokenDenylistContract('redis', async () => {
  const { redis, prefix, close } = await connectTestRedis();
  return { subject: redisTokenDenylist(redis, { prefix }), now: () => new Date(), advance: sleep, cleanup: close };
});
