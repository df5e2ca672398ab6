import { describe, expect, it } from '@jest/globals';
import { left, right } from 'fp-ts/lib/Either.js';
import { makeSendWithinCaps } from '../../../src/application/challenges/send-caps.js';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { defaultLimits } from '../../../src/application/deps.js';
import type { RateDecision, RateLimiter } from '../../../src/application/ports.js';
import { makeRecordRefusal } from '../../../src/application/challenges/record-refusal.js';
import { createInProcessRateLimiter } from '../../../src/infrastructure/abuse/in-process-rate-limiter.js';
import { createInMemoryEventStore } from '../../../src/infrastructure/event-store/in-memory-event-store.js';
import { reject, type Rejection } from '../../../src/domain/shared/rejection.js';
import type { Logger } from '../../../src/application/ports.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const app = {
  app_id: 'app-1',
  policy: { max_sends_per_app_per_day: 100, max_sends_per_number_block_per_hour: 50, max_sends_per_recipient_per_hour: 5 },
} as unknown as ActiveApp;
const phone = { normalized: '+34600111222', country_calling_code: '34', hint: '+34******222' };

/** A rate limiter whose answer per cap (by key prefix) and phase the test sets, recording every ask. */
const limiterWith = (refuse: { readonly [prefix: string]: { readonly peek?: number; readonly hit?: number } }) => {
  const asks: string[] = [];
  const rateLimit: RateLimiter = async (key, _limit, _window, options) => {
    const phase = options?.peek ? 'peek' : 'hit';
    asks.push(`${phase} ${key.split(':')[0]}`);
    const retry = Object.entries(refuse).find(([prefix]) => key.startsWith(prefix))?.[1][phase];
    const counted = async () => void asks.push(`release ${key.split(':')[0]}`);
    const decision: RateDecision =
      retry === undefined
        ? { allowed: true, remaining: 1, retry_after_seconds: 0, ...(phase === 'hit' ? { release: counted } : {}) }
        : { allowed: false, remaining: 0, retry_after_seconds: retry };
    return decision;
  };
  const store = createInMemoryEventStore();
  const within = makeSendWithinCaps({ rateLimit, limits: defaultLimits, keyedHash: (_p, v) => `h(${v})`, store, clock: () => new Date(), eventMetadata: () => ({ request_id: 'req-1' }), logger: quiet });
  /** The caps around a send that goes. */
  const check = (a: ActiveApp, ip: string | undefined, to: typeof phone, beforeSpending?: () => Promise<Rejection | undefined>) =>
    within(a, ip, to, async () => right('sent'), beforeSpending);
  /** The reasons recorded in the app's abuse log. */
  const reasons = async () => (await store.readStream('abuse-app-1')).map((event) => (event.data as { reason: string }).reason);
  return { check, within, asks, reasons };
};

describe('send caps', () => {
  it('counts a send against every cap once all of them would allow it', async () => {
    const { check, asks } = limiterWith({});
    expect((await check(app, '10.0.0.1', phone))._tag).toBe('Right');
    expect(asks).toEqual(['peek send-ip', 'peek send-app', 'peek send-block', 'peek send-to', 'hit send-ip', 'hit send-app', 'hit send-block', 'hit send-to']);
  });

  it('refuses with the first refusing cap in order, and its Retry-After, spending no cap', async () => {
    const { check, asks, reasons } = limiterWith({ 'send-block': { peek: 120 }, 'send-to': { peek: 30 } });
    expect(await check(app, '10.0.0.1', phone)).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: 120 }) });
    expect(await reasons()).toEqual(['NUMBER_BLOCK_CAP']);
    expect(asks.filter((ask) => ask.startsWith('hit send-'))).toEqual([]);
  });

  it('asks beforeSpending once every cap would allow the send, and spends none when it refuses', async () => {
    const { check, asks } = limiterWith({});
    let asked = 0;
    const tooSoon = reject('RESEND_TOO_SOON', 'wait', { retryAfterSeconds: 30 });
    expect(await check(app, '10.0.0.1', phone, async () => ((asked += 1), tooSoon))).toEqual({ _tag: 'Left', left: tooSoon });
    expect(asked).toBe(1);
    expect(asks.filter((ask) => ask.startsWith('hit '))).toEqual([]);
    expect((await check(app, '10.0.0.1', phone, async () => undefined))._tag).toBe('Right');
    expect(asks.filter((ask) => ask.startsWith('hit ')).length).toBe(4);
  });

  it('does not ask beforeSpending when a cap refuses', async () => {
    const { check } = limiterWith({ 'send-ip': { peek: 60 } });
    let asked = 0;
    expect(await check(app, '10.0.0.1', phone, async () => void (asked += 1))).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'RATE_LIMITED' }) });
    expect(asked).toBe(0);
  });

  it('refuses a send whose slot a concurrent send took between the check and the count, giving back the hits the others counted', async () => {
    const { check, reasons, asks } = limiterWith({ 'send-app': { hit: 3600 } });
    expect(await check(app, '10.0.0.1', phone)).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: 3600 }) });
    expect(await reasons()).toEqual(['APP_DAILY_BUDGET']);
    expect(asks.filter((ask) => ask.startsWith('release ')).sort()).toEqual(['release send-block', 'release send-ip', 'release send-to']);
  });

  it('keeps the hits of a send that went, and gives back every one of a send that did not', async () => {
    const { within, asks } = limiterWith({});
    const released = () => asks.filter((ask) => ask.startsWith('release ')).length;
    expect(await within(app, '10.0.0.1', phone, async () => right('sent'))).toEqual(right('sent'));
    expect(released()).toBe(0);
    const refused = reject('RESEND_TOO_SOON', 'wait', { retryAfterSeconds: 30 });
    expect(await within(app, '10.0.0.1', phone, async () => left(refused))).toEqual(left(refused));
    expect(released()).toBe(4);
    const storeDown = async () => Promise.reject(new Error('store down'));
    await expect(within(app, '10.0.0.1', phone, storeDown, undefined, async () => false)).rejects.toThrow('store down');
    expect(released()).toBe(8);
  });

  it('keeps the hits of a send that threw unless it is known that no code went', async () => {
    const { within, asks } = limiterWith({});
    const released = () => asks.filter((ask) => ask.startsWith('release ')).length;
    const lost = async () => Promise.reject(new Error('query timeout')); // the append may have landed
    await expect(within(app, '10.0.0.1', phone, lost, undefined, async () => true)).rejects.toThrow('query timeout');
    await expect(within(app, '10.0.0.1', phone, lost)).rejects.toThrow('query timeout');
    await expect(within(app, '10.0.0.1', phone, lost, undefined, async () => Promise.reject(new Error('still down')))).rejects.toThrow('query timeout');
    expect(released()).toBe(0);
  });

  it('gives back the hits the other caps counted when one of them throws', async () => {
    const asks: string[] = [];
    const rateLimit: RateLimiter = async (key, _limit, _window, options) => {
      if (key.startsWith('send-block') && !options?.peek) throw new RangeError('limit must be positive');
      return { allowed: true, remaining: 1, retry_after_seconds: 0, ...(options?.peek ? {} : { release: async () => void asks.push(`release ${key.split(':')[0]}`) }) };
    };
    const within = makeSendWithinCaps({ rateLimit, limits: defaultLimits, keyedHash: (_p, v) => `h(${v})`, store: createInMemoryEventStore(), clock: () => new Date(), eventMetadata: () => ({ request_id: 'req-1' }), logger: quiet });
    await expect(within(app, '10.0.0.1', phone, async () => right('sent'))).rejects.toThrow('limit must be positive');
    expect(asks.sort()).toEqual(['release send-app', 'release send-ip', 'release send-to']);
  });

  it('lets a recipient whose sends failed have its hourly sends once the store is back', async () => {
    const rateLimit = createInProcessRateLimiter(() => new Date());
    const store = createInMemoryEventStore();
    const within = makeSendWithinCaps({ rateLimit, limits: defaultLimits, keyedHash: (_p, v) => `h(${v})`, store, clock: () => new Date(), eventMetadata: () => ({ request_id: 'req-1' }), logger: quiet });
    const storeDown = async () => Promise.reject(new Error('store down'));
    for (let i = 0; i < 7; i++) await expect(within(app, '10.0.0.1', phone, storeDown, undefined, async () => false)).rejects.toThrow();
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const outcome = await within(app, '10.0.0.1', phone, async () => right('sent'));
      answers.push(outcome._tag === 'Right' ? 'sent' : outcome.left.code);
    }
    expect(answers).toEqual(['sent', 'sent', 'sent', 'sent', 'sent', 'RATE_LIMITED']); // max_sends_per_recipient_per_hour: 5
  });
});

describe('the abuse log under attack', () => {
  const setup = () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const clock = () => new Date(now);
    const store = createInMemoryEventStore();
    const record = makeRecordRefusal({ store, clock, eventMetadata: () => ({ request_id: 'r' }), rateLimit: createInProcessRateLimiter(clock) });
    const logged = async () => (await store.readStream('abuse-app-1')).map((event) => event.data as { reason: string; to_hint?: string; client?: string });
    return { record, logged, advance: (ms: number) => void (now += ms) };
  };

  it('records the same refusal once a minute, and every different one', async () => {
    const { record, logged, advance } = setup();
    for (let i = 0; i < 50; i++) await record('app-1', { reason: 'RECIPIENT_CAP', to_hint: '+34******222', client: 'c1' });
    await record('app-1', { reason: 'RECIPIENT_CAP', to_hint: '+34******333', client: 'c1' });
    await record('app-1', { reason: 'IP_CAP', to_hint: '+34******222', client: 'c1' });
    await record('app-1', { reason: 'RECIPIENT_CAP', to_hint: '+34******222', client: 'c2' });
    expect(await logged()).toHaveLength(4);
    advance(60_000);
    await record('app-1', { reason: 'RECIPIENT_CAP', to_hint: '+34******222', client: 'c1' });
    expect(await logged()).toHaveLength(5);
  });

  it('takes at most 600 refusals an hour per app, however they vary', async () => {
    const { record, logged, advance } = setup();
    for (let i = 0; i < 700; i++) await record('app-1', { reason: 'IP_CAP', client: `c${i}` });
    expect(await logged()).toHaveLength(600);
    advance(3_600_000);
    await record('app-1', { reason: 'IP_CAP', client: 'c0' });
    expect(await logged()).toHaveLength(601);
  });
});
