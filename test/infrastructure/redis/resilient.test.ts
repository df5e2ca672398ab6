import { describe, expect, it } from '@jest/globals';
import type { DecoyStore, RateLimiter, ReplayGuard, TokenDenylist } from '../../../src/application/ports.js';
import { createInProcessDecoyStore } from '../../../src/infrastructure/abuse/in-process-decoy-store.js';
import { createInMemoryTokenDenylist } from '../../../src/infrastructure/abuse/in-memory-denylist.js';
import { createInProcessRateLimiter } from '../../../src/infrastructure/abuse/in-process-rate-limiter.js';
import { createInProcessReplayGuard } from '../../../src/infrastructure/abuse/in-process-replay-guard.js';
import { createCircuitBreaker } from '../../../src/infrastructure/redis/circuit-breaker.js';
import { Redis } from 'ioredis';
import { redisDecoyStore } from '../../../src/infrastructure/redis/decoy-store.js';
import { resilientDecoyStore, resilientDenylist, resilientRateLimiter, resilientReplayGuard } from '../../../src/infrastructure/redis/resilient.js';

// The primaries are real in-process adapters behind a switch that makes them fail like a dead Redis.
const setup = () => {
  const clock = () => new Date('2030-01-01T00:00:00Z');
  const breaker = createCircuitBreaker({ name: 'redis', clock, failureThreshold: 2, openMs: 60_000, timeoutMs: 50 });
  let down = false;
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      down ? Promise.reject(new Error('Connection is closed.')) : fn(...args);
  const remoteDenylist = createInMemoryTokenDenylist(clock);
  return {
    breaker,
    clock,
    setDown: (value: boolean) => void (down = value),
    limiter: guarded(createInProcessRateLimiter(clock)) as RateLimiter,
    guard: guarded(createInProcessReplayGuard(clock)) as ReplayGuard,
    remoteDenylist,
    denylist: { revoke: guarded(remoteDenylist.revoke), isRevoked: guarded(remoteDenylist.isRevoked) } as TokenDenylist,
  };
};
const later = new Date('2030-01-01T01:00:00Z');

describe('resilient rate limiter', () => {
  it('uses the primary while it works and the in-process fallback while it fails', async () => {
    const { breaker, limiter, setDown, clock } = setup();
    const limit = resilientRateLimiter(limiter, createInProcessRateLimiter(clock), breaker);
    expect((await limit('k', 1, 60)).allowed).toBe(true);
    expect((await limit('k', 1, 60)).allowed).toBe(false);
    setDown(true);
    // The fallback counted the hit the primary allowed (its shadow): still refused while down.
    expect((await limit('k', 1, 60)).allowed).toBe(false);
    // Limits are per process while the primary is down: a key this process never counted starts afresh.
    expect((await limit('other', 1, 60)).allowed).toBe(true);
    expect((await limit('other', 1, 60)).allowed).toBe(false);
    expect(breaker.state()).toBe('open');
  });

  it("goes on from this process's hits when the primary fails, not from an empty log; a peek counts nothing", async () => {
    const { breaker, limiter, setDown, clock } = setup();
    const limit = resilientRateLimiter(limiter, createInProcessRateLimiter(clock), breaker);
    for (let i = 0; i < 3; i += 1) expect((await limit('cap', 5, 3600, { peek: true })).allowed).toBe(true);
    for (let i = 0; i < 4; i += 1) expect((await limit('cap', 5, 3600)).allowed).toBe(true);
    setDown(true);
    expect((await limit('cap', 5, 3600)).allowed).toBe(true);
    expect((await limit('cap', 5, 3600)).allowed).toBe(false);
  });

  it('shadows only the keys it is told to (memory: keys anyone can mint are left to Redis)', async () => {
    const { breaker, limiter, clock } = setup();
    const local = createInProcessRateLimiter(clock);
    const limit = resilientRateLimiter(limiter, local, breaker, { shadowed: (key) => key.startsWith('send-') });
    await limit('send-to:x', 1, 60);
    await limit('login-unknown:x', 1, 60);
    expect((await local('send-to:x', 1, 60, { peek: true })).allowed).toBe(false);
    expect((await local('login-unknown:x', 1, 60, { peek: true })).allowed).toBe(true);
  });

  it('releases a hit where it was counted; releasing the primary\'s while it fails says it could not', async () => {
    const { breaker, clock } = setup();
    let down = false;
    const failing = () => Promise.reject(new Error('Connection is closed.'));
    const remote = createInProcessRateLimiter(clock);
    // Down, the primary fails its calls and its hits' releases alike.
    const primary: RateLimiter = async (...args) => {
      if (down) return failing();
      const decision = await remote(...args);
      const { release } = decision;
      return release ? { ...decision, release: () => (down ? failing() : release()) } : decision;
    };
    const local = createInProcessRateLimiter(clock);
    const limit = resilientRateLimiter(primary, local, breaker);

    // Released: the primary's hit and its shadow alike.
    await (await limit('k', 1, 60)).release?.();
    expect((await remote('k', 1, 60, { peek: true })).allowed).toBe(true);
    expect((await local('k', 1, 60, { peek: true })).allowed).toBe(true);
    const held = await limit('k', 1, 60);
    down = true;
    await expect(held.release?.()).rejects.toThrow('Redis is unavailable');
    expect((await remote('k', 1, 60, { peek: true })).allowed).toBe(false);
    // Its shadow stays counted with it.
    expect((await local('k', 1, 60, { peek: true })).allowed).toBe(false);

    const counted = await limit('j', 1, 60); // by the fallback
    expect(breaker.state()).toBe('open');
    expect((await local('j', 1, 60, { peek: true })).allowed).toBe(false);
    await counted.release?.();
    expect((await local('j', 1, 60, { peek: true })).allowed).toBe(true);
  });
});

describe('resilient replay guard', () => {
  it('grants claims while the primary is down (the event store keeps single use)', async () => {
    const { breaker, guard, setDown } = setup();
    const claim = resilientReplayGuard(guard, breaker);
    expect(await claim('step', 60)).toBe(true);
    expect(await claim('step', 60)).toBe(false);
    setDown(true);
    expect(await claim('step', 60)).toBe(true);
    expect(await claim('step', 60)).toBe(true);
  });
});

describe('resilient denylist', () => {
  it('reports revoked when either list says so', async () => {
    const { breaker, denylist, remoteDenylist, clock } = setup();
    const local = createInMemoryTokenDenylist(clock);
    const both = resilientDenylist(denylist, local, breaker);
    await remoteDenylist.revoke('only-remote', later);
    await local.revoke('only-local', later);
    expect(await both.isRevoked('only-remote')).toBe(true);
    expect(await both.isRevoked('only-local')).toBe(true);
    expect(await both.isRevoked('neither')).toBe(false);
  });

  it('writes revocations to both lists', async () => {
    const { breaker, denylist, remoteDenylist, clock } = setup();
    const local = createInMemoryTokenDenylist(clock);
    await resilientDenylist(denylist, local, breaker).revoke('j', later);
    expect(await local.isRevoked('j')).toBe(true);
    expect(await remoteDenylist.isRevoked('j')).toBe(true);
  });

  it('keeps answering from the fallback, and revoking, while the primary is down', async () => {
    const { breaker, denylist, setDown, clock } = setup();
    const local = createInMemoryTokenDenylist(clock);
    const both = resilientDenylist(denylist, local, breaker);
    await both.revoke('before', later);
    setDown(true);
    expect(await both.isRevoked('before')).toBe(true);
    await expect(both.revoke('during', later)).resolves.toBeUndefined();
    expect(await both.isRevoked('during')).toBe(true);
    expect(await both.isRevoked('never')).toBe(false);
  });

  it('does not hide a failure of the fallback list', async () => {
    const { breaker, denylist } = setup();
    const broken: TokenDenylist = { revoke: async () => Promise.reject(new Error('log down')), isRevoked: async () => Promise.reject(new Error('log down')) };
    const both = resilientDenylist(denylist, broken, breaker);
    await expect(both.isRevoked('j')).rejects.toThrow('log down');
    await expect(both.revoke('j', later)).rejects.toThrow('log down');
  });
});

describe('resilient decoy store', () => {
  const fail = async (store: DecoyStore, id: string) => {
    const read = await store.read('app', id);
    return (await store.write('app', id, read, { failures: (read.counts?.failures ?? 0) + 1, locked_until: null, recent_failures: [] }, 'w')).written;
  };

  it('counts in the primary while it works, and in process, from nothing, while it fails', async () => {
    const { breaker } = setup();
    const remote = createInProcessDecoyStore({ capacity: 10 });
    let down = false;
    const primary: DecoyStore = {
      read: (...args) => (down ? Promise.reject(new Error('Connection is closed.')) : remote.read(...args)),
      write: (...args) => (down ? Promise.reject(new Error('Connection is closed.')) : remote.write(...args)),
    };
    const local = createInProcessDecoyStore({ capacity: 10 });
    const store = resilientDecoyStore(primary, local, breaker);
    expect(await fail(store, 'ghost')).toBe(true);
    expect(await fail(store, 'ghost')).toBe(true);
    down = true;
    // The fallback keeps its own counts from nothing: per process while the primary is down.
    expect(await fail(store, 'ghost')).toBe(true);
    expect((await store.read('app', 'ghost')).counts?.failures).toBe(1);
    expect(breaker.state()).toBe('open');
    expect((await remote.read('app', 'ghost')).counts?.failures).toBe(2);
  });

  it('writes to the store a read came from: Redis failing while its circuit is still closed, every failure is counted in process', async () => {
    const clock = () => new Date('2030-01-01T00:00:00Z');
    // A real Redis adapter on a connection that refuses every command at once.
    const dead = new Redis('redis://127.0.0.1:1/0', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    try {
      const breaker = createCircuitBreaker({ name: 'redis', clock, failureThreshold: 1000, timeoutMs: 50 });
      const local = createInProcessDecoyStore({ capacity: 10 });
      const store = resilientDecoyStore(redisDecoyStore(dead, { prefix: 'test:', capacity: 10 }), local, breaker);
      for (let i = 0; i < 3; i++) expect(await fail(store, 'ghost')).toBe(true);
      expect(breaker.state()).toBe('closed');
      expect((await local.read('app', 'ghost')).counts?.failures).toBe(3);
    } finally {
      dead.disconnect();
    }
  });

  it('takes a write to Redis that fails or times out for one to decide again, not for a fallback write', async () => {
    const { breaker } = setup();
    const remote = createInProcessDecoyStore({ capacity: 10 });
    const primary: DecoyStore = { read: (...args) => remote.read(...args), write: () => Promise.reject(new Error('Connection is closed.')) };
    const local = createInProcessDecoyStore({ capacity: 10 });
    const store = resilientDecoyStore(primary, local, breaker);
    expect(await fail(store, 'ghost')).toBe(false);
    expect((await local.read('app', 'ghost')).counts).toBeNull();
  });
});
