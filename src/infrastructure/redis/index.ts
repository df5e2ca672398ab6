export { createRedisClient, type RedisClientOptions } from './client.js';
export { createCircuitBreaker, CircuitTimeout, type CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
export { redisDecoyStore } from './decoy-store.js';
export { redisRateLimiter } from './rate-limiter.js';
export { redisReplayGuard } from './replay-guard.js';
export { redisTokenDenylist } from './token-denylist.js';
export { resilientDecoyStore, resilientDenylist, resilientRateLimiter, resilientReplayGuard } from './resilient.js';
