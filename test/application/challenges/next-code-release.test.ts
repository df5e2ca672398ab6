/**
 * The slot a request takes for a recipient's next code (`claimNextCode`) is given back when no
 * code goes after all: a retry right after a send that failed (the store down, a cap whose last
 * hit a concurrent send took) goes out instead of being told RESEND_TOO_SOON for a code that
 * never went. A send whose code went keeps its slot: a request that read the same last code and
 * claims after it is still told to wait. Nor does a send that failed spend any of the send
 * caps (`send-caps.ts`). On the in-process limiter, and on Redis's behind its
 * circuit breaker as the service composes it (`createAbuseControls`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { makeSendCode } from '../../../src/application/challenges/send-code.js';
import type { Deps } from '../../../src/application/deps.js';
import { makeRegisterEnrollment } from '../../../src/application/enrollments/register-enrollment.js';
import { makeHandleCommand } from '../../../src/application/handle-command.js';
import type { EventStore, RateLimiter } from '../../../src/application/ports.js';
import { createAbuseControls } from '../../../src/infrastructure/composition/abuse.js';
import { createGate } from '../../support/gate.js';
import { connectTestRedis, testRedisUrl } from '../../support/redis.js';
import { startWithOwnedApp, type TestServer } from '../../support/test-server.js';

/**
 * A handle on the service's event store that fails the next append to a challenge's stream, once
 * `failNext` is called: before it reaches the store, or after it landed (its answer lost).
 */
const failingOnce = (deps: Deps) => {
  let failing: 'before' | 'after' | undefined;
  const store: EventStore = {
    ...deps.store,
    append: async (stream, events, expected) => {
      const when = stream.startsWith('challenge-') ? failing : undefined;
      if (when === undefined) return deps.store.append(stream, events, expected);
      failing = undefined;
      if (when === 'after') await deps.store.append(stream, events, expected);
      throw new Error('Connection terminated unexpectedly');
    },
  };
  const handle = makeHandleCommand({ store, tracer: (_name, _attributes, fn) => fn(), metadata: deps.eventMetadata });
  return { handle, failNext: (when: 'before' | 'after' = 'before') => void (failing = when) };
};

/** `rateLimit`, holding the first claim of a next-code slot until released: before it is asked for, or once it is taken. */
const holdingFirstClaim = (rateLimit: RateLimiter, when: 'before' | 'after') => {
  const gate = createGate();
  let holding = false;
  const held: RateLimiter = async (key, limit, window, options) => {
    const first = key.startsWith('next-code:') && !holding;
    if (first) holding = true;
    if (first && when === 'before') await gate.hold();
    const decision = await rateLimit(key, limit, window, options);
    if (first && when === 'after') await gate.hold();
    return decision;
  };
  return { rateLimit: held, release: gate.release, arrived: gate.firstArrived };
};

const tooSoon = { _tag: 'Left', left: expect.objectContaining({ code: 'RESEND_TOO_SOON' }) };
const pending = { _tag: 'Right', right: expect.objectContaining({ status: 'PENDING' }) };

describe('the slot for a recipient\'s next code, when no code goes', () => {
  let server: TestServer;
  let deps: Deps;
  let app: ActiveApp;

  beforeAll(async () => {
    ({ server, deps, app } = await startWithOwnedApp());
    expect(app.policy.resend_cooldown_seconds).toBe(30);
  });
  afterAll(() => server.close());

  const limiters: readonly [string, string, () => Promise<{ rateLimit: RateLimiter; close: () => Promise<void> }>][] = [
    ['in process', 'p', async () => ({ rateLimit: deps.rateLimit, close: async () => undefined })],
    [
      'on Redis',
      'r',
      async () => {
        const redis = await connectTestRedis(); // for its prefix, and to remove the keys afterwards
        const abuse = await createAbuseControls({ redisUrl: testRedisUrl(), redisPrefix: redis.prefix }, { clock: server.clock, logger: deps.logger, logDenylist: deps.denylist });
        return { rateLimit: abuse.rateLimit, close: async () => (await abuse.close(), await redis.close()) };
      },
    ],
  ];

  describe.each(limiters)('%s', (_label, suffix, make) => {
    let rateLimit: RateLimiter;
    let close: () => Promise<void>;
    beforeAll(async () => ({ rateLimit, close } = await make()));
    afterAll(() => close());

    const input = (name: string, clientIp?: string) => ({ app, username: `${name}-${suffix}`, channel: 'EMAIL' as const, to: `${name}-${suffix}@example.com`, client_ip: clientIp });

    it('gives it back after a first send whose append failed: the retry goes, and a send after that is told to wait', async () => {
      const store = failingOnce(deps);
      const send = makeSendCode({ ...deps, rateLimit, handle: store.handle });
      store.failNext();
      await expect(send(input('ada'))).rejects.toThrow('Connection terminated');
      expect(await send(input('ada'))).toEqual(pending);
      expect(await send(input('ada'))).toEqual(tooSoon);
    });

    it('spends none of the send caps on sends that failed: after more failures than the recipient\'s hourly cap, its sends go', async () => {
      const store = failingOnce(deps);
      const send = makeSendCode({ ...deps, rateLimit, handle: store.handle });
      const cap = app.policy.max_sends_per_recipient_per_hour;
      for (let i = 0; i <= cap; i++) {
        store.failNext();
        await expect(send(input('bo'))).rejects.toThrow('Connection terminated');
      }
      expect(await send(input('bo'))).toEqual(pending);
    });

    it('keeps it, and the caps, after a send whose append landed though its answer was lost: the code goes, so the retry is told to wait', async () => {
      const store = failingOnce(deps);
      const send = makeSendCode({ ...deps, rateLimit, handle: store.handle });
      const recipientCap = `send-to:${app.app_id}:${deps.keyedHash('destination', `hal-${suffix}@example.com`)}`;
      const left = async () => (await rateLimit(recipientCap, app.policy.max_sends_per_recipient_per_hour, 3600, { peek: true })).remaining;
      const before = await left();
      store.failNext('after');
      await expect(send(input('hal'))).rejects.toThrow('Connection terminated');
      expect(await send(input('hal'))).toEqual(tooSoon);
      expect(await left()).toBe(before - 1); // the code that went is counted

      // A resend that landed keeps them too.
      server.clock.advance(31_000);
      store.failNext('after');
      await expect(send(input('hal'))).rejects.toThrow('Connection terminated');
      expect(await left()).toBe(before - 2);
    });

    it('gives it back after a resend whose append failed: the retry resends', async () => {
      const store = failingOnce(deps);
      const send = makeSendCode({ ...deps, rateLimit, handle: store.handle });
      const sent = await send(input('cy'));
      if (sent._tag === 'Left') throw new Error(sent.left.message);
      server.clock.advance(31_000);
      store.failNext();
      await expect(send(input('cy'))).rejects.toThrow('Connection terminated');
      expect(await send(input('cy'))).toEqual({ _tag: 'Right', right: expect.objectContaining({ challenge_id: sent.right.challenge_id }) });
      expect(await send(input('cy'))).toEqual(tooSoon);
    });

    it('gives it back after a send a cap refused when spent (a concurrent send took the address\'s last): the retry goes', async () => {
      const limits = { ...deps.limits, sendsPerIpPerHour: 1 };
      const ip = suffix === 'p' ? '203.0.113.21' : '203.0.113.22';
      const budget = async () => (await rateLimit(`send-app:${app.app_id}`, app.policy.max_sends_per_app_per_day, 86_400, { peek: true })).remaining;
      const before = await budget();
      const held = holdingFirstClaim(rateLimit, 'after');
      const first = makeSendCode({ ...deps, rateLimit: held.rateLimit, limits })(input('dee', ip));
      await held.arrived; // its caps peeked, its slot taken
      const send = makeSendCode({ ...deps, rateLimit, limits });
      expect(await send(input('eli', ip))).toEqual(pending); // the address's one send
      held.release();
      expect(await first).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'RATE_LIMITED' }) });
      // Nothing went to dee: its own next send (from another address) is not told to wait.
      expect(await send(input('dee'))).toEqual(pending);
      expect(await send(input('dee'))).toEqual(tooSoon);
      // The app's day counts the two codes that went, not the refused send's hit on it.
      expect(await budget()).toBe(before - 2);
    });

    it('gives it back after a registration whose append failed: the retry registers', async () => {
      const store = failingOnce(deps);
      const register = makeRegisterEnrollment({ ...deps, rateLimit, handle: store.handle });
      const registration = { app, username: `fay-${suffix}`, otp_method: 'SMS' as const, destination: suffix === 'p' ? '+34600765401' : '+34600765402', client_ip: undefined };
      store.failNext();
      await expect(register(registration)).rejects.toThrow('Connection terminated');
      expect(await register(registration)).toEqual({ _tag: 'Right', right: expect.objectContaining({ kind: 'SENT', status: 'PENDING' }) });
      expect(await register(registration)).toEqual(tooSoon);
    });

    it('keeps it after a send whose code went: a send that read the same last code and claims after it is told to wait', async () => {
      const held = holdingFirstClaim(rateLimit, 'before');
      const late = makeSendCode({ ...deps, rateLimit: held.rateLimit })(input('gus'));
      await held.arrived; // read "nothing open", not yet claimed
      const send = makeSendCode({ ...deps, rateLimit });
      expect(await send(input('gus'))).toEqual(pending);
      held.release();
      expect(await late).toEqual(tooSoon);
      expect(await send(input('gus'))).toEqual(tooSoon);
    });
  });
});
