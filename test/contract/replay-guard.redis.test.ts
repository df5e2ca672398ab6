import { redisReplayGuard } from '../../src/infrastructure/redis/replay-guard.js';
import { connectTestRedis } from '../support/redis.js';
import { replayGuardContract } from './replay-guard.contract.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Redis keeps its own time, so `advance` really waits.
replayGuardContract('redis', async () => {
  const { redis, prefix, close } = await connectTestRedis();
  return { subject: redisReplayGuard(redis, { prefix }), advance: sleep, now: Date.now, cleanup: close };
});
