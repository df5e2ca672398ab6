import { challengeStream, isPastExpiry, type Challenge, type ChallengeCommand, type ChallengeState } from '../../domain/challenge/index.js';
import { clientAppStream } from '../../domain/client-app/index.js';
import { addSeconds } from '../../domain/shared/time.js';
import type { Channel } from '../../domain/shared/types.js';
import { ChallengeAggregate, ClientAppAggregate } from '../aggregates.js';
import { now, type Deps, type Limits } from '../deps.js';
import { DeliveryFailure } from '../ports.js';
import { fallbackChannel } from './fallback.js';
import { shredCodes } from './shred-codes.js';
import { claimedMinutes, renderCodeMessage } from './templates.js';

/** `deferred_ms`: the send waits its turn at a paced provider; nothing was recorded, ask again then. */
export type DeliveryOutcome = 'DELIVERED' | 'RETRY_SCHEDULED' | 'FAILED' | 'NOTHING_TO_DO' | { readonly deferred_ms: number };

type DeliverDeps = Pick<Deps, 'handle' | 'loadRecent' | 'appStalenessMs' | 'vault' | 'delivery' | 'clock' | 'logger' | 'limits' | 'load' | 'tracer'>;

type Step = { readonly outcome: DeliveryOutcome; readonly after?: ChallengeState };

/** A fraction in [0, 1) fixed by the challenge and attempt (FNV-1a): spread, yet replayable. */
const spread = (challengeId: string, attempt: number): number => {
  let hash = 0x811c9dc5;
  for (const char of `${challengeId}/${attempt}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash / 2 ** 32;
};

/**
 * How long a transient failure waits before the next attempt, s: the backoff doubles per
 * attempt up to its cap, or the provider's Retry-After if longer (`atLeastSeconds`), then up to
 * `deliveryJitter` of that longer, so sends refused together do not come back together.
 */
export const retryDelaySeconds = (
  limits: Pick<Limits, 'deliveryBackoffSeconds' | 'deliveryMaxBackoffSeconds' | 'deliveryJitter'>,
  challengeId: string,
  attempt: number,
  atLeastSeconds = 0,
): number => {
  const backoff = Math.min(limits.deliveryMaxBackoffSeconds, limits.deliveryBackoffSeconds * 2 ** (attempt - 1));
  return Math.max(backoff, atLeastSeconds) * (1 + limits.deliveryJitter * spread(challengeId, attempt));
};

/** One key per send and channel (at most 256 characters, as Resend takes them). */
export const deliveryKey = (challengeId: string, send: number, channel: Channel): string => `otp-code/${challengeId}/${send}/${channel}`;

/**
 * One delivery step of the worker: sends the challenge's current code if it is due and not yet
 * delivered, and records the attempt and its outcome as events. Transient failures are retried
 * with exponential backoff; a permanent one (or too many) moves to the app's fallback phone
 * channel when there is one, else the send fails for good.
 */
export const makeDeliverChallenge = (deps: DeliverDeps) => {
  const record = (id: string, command: ChallengeCommand) => deps.handle(ChallengeAggregate, challengeStream(id), () => command);
  /**
   * Records an outcome the worker relies on. Refused (the challenge closed meanwhile, or too
   * much contention), it throws: the worker then tries the entry again on its next poll and
   * reads what happened, instead of counting it handled with nothing in the log.
   */
  const recordOutcome = async (id: string, command: ChallengeCommand) => {
    const result = await record(id, command);
    if (result._tag === 'Left') throw new Error(`delivery outcome not recorded: ${result.left.code}`);
    return result.right;
  };

  /** `after`: the challenge as the step's last append left it (as current as a fresh read). */
  const deliverOnce = async (challenge: Challenge): Promise<Step> => {
    const id = challenge.challenge_id;
    const stream = challengeStream(id);
    const channel = challenge.delivery.channel ?? challenge.channel!;
    const send = challenge.sends;
    const attempt = challenge.delivery.attempts + 1;
    const { provider, send: deliver, turn, dedupes } = deps.delivery(channel);
    const key = deliveryKey(id, send, channel);
    // A paced provider's turn, kept per challenge and channel (a resend keeps its place), never
    // booked past the code's expiry.
    const wait = turn?.(`${id}/${channel}`, Date.parse(challenge.expires_at) - deps.clock().getTime()) ?? 0;
    if (wait > 0) return { outcome: { deferred_ms: wait } };
    const failed = async (reason: string, extra: { retry_at?: string; next_channel?: Channel; throttled?: boolean } = {}) =>
      (await recordOutcome(id, { type: 'RecordDelivery', send, attempt, channel, provider, outcome: { ok: false, reason, permanent: !extra.retry_at, ...extra }, at: now(deps) })).state;

    const [code, to, app] = await Promise.all([
      challenge.code_sealed ? deps.vault.open(challenge.code_sealed, stream) : Promise.resolve(null),
      challenge.destination ? deps.vault.open(challenge.destination, stream) : Promise.resolve(null),
      // Name, templates and fallback as recent as API-key authentication accepts them.
      deps.loadRecent(ClientAppAggregate, clientAppStream(challenge.app_id), deps.appStalenessMs),
    ]);
    if (code === null || to === null || app.status !== 'ACTIVE')
      return { outcome: 'FAILED', after: await failed(app.status !== 'ACTIVE' ? 'the app was deleted' : 'the code or destination is no longer available') };
    // The attempt is a claim: refused, another worker is making it (or made it), so this one does not send.
    const leaseUntil = addSeconds(now(deps), deps.limits.deliveryLeaseSeconds);
    const claimed = await record(id, { type: 'RecordDeliveryAttempt', send, attempt, channel, provider, lease_until: leaseUntil, at: now(deps) });
    if (claimed._tag === 'Left') return { outcome: 'NOTHING_TO_DO' };
    // The minutes left as of this attempt; through a provider that deduplicates by key (Resend),
    // the code's lifetime as of its send instead, so every attempt at one send carries the same
    // message and the provider answers a repeat with its first answer rather than refusing it as
    // another payload under the same key.
    const from = dedupes ? Date.parse(challenge.last_sent_at) : deps.clock().getTime();
    const ttlSeconds = Math.max(0, Math.round((Date.parse(challenge.expires_at) - from) / 1000));
    const secondsLeft = Math.max(0, Math.floor((Date.parse(challenge.expires_at) - deps.clock().getTime()) / 1000));
    const message = renderCodeMessage({ channel, locale: challenge.locale ?? app.policy.default_locale, defaultLocale: app.policy.default_locale, appName: app.name, code, ttlSeconds, templates: app.policy.templates });
    try {
      // A span of its own: the provider's latency and failure in the delivery's trace, whether
      // or not its client library is instrumented (Resend's fetch and SMTP's sockets are not).
      await deps.tracer(`send ${channel}`, { 'otp.channel': channel, 'otp.provider': provider, 'otp.attempt': attempt }, () =>
        deliver({ channel, to, challenge_id: id, send, attempt, idempotency_key: key, code, ttl_minutes: claimedMinutes(ttlSeconds), valid_for_seconds: secondsLeft, ...message }),
      );
    } catch (error) {
      const failure = error instanceof DeliveryFailure ? error : new DeliveryFailure(error instanceof Error ? error.message : 'send failed', provider, false);
      deps.logger.warn('delivery failed', { challenge_id: id, channel, provider, attempt, permanent: failure.permanent, reason: failure.message });
      // A provider refusing for its rate is retried past the send's attempts (a burst past
      // Resend's 2 a second must not fail codes for good); the code's expiry ends it. Such
      // refusals and ordinary failures each back off by their own count, so refusals neither
      // spend an ordinary failure's attempts nor lengthen its backoff (which would push a
      // fallback past the code's expiry).
      const refusals = challenge.delivery.throttled ?? 0;
      const counted = attempt - refusals;
      const fallback = fallbackChannel(deps, app.policy, challenge, channel);
      if (!failure.permanent && (counted < deps.limits.deliveryMaxAttempts || failure.throttled)) {
        const tries = failure.throttled ? refusals + 1 : counted;
        const retryAt = addSeconds(now(deps), retryDelaySeconds(deps.limits, id, tries, failure.retryAfterSeconds ?? 0));
        // A retry due only once the code has expired would never go out: the fallback now, if there is one.
        if (!fallback || Date.parse(retryAt) < Date.parse(challenge.expires_at))
          return { outcome: 'RETRY_SCHEDULED', after: await failed(failure.message, { retry_at: retryAt, ...(failure.throttled ? { throttled: true } : {}) }) };
      }
      if (fallback) return { outcome: 'RETRY_SCHEDULED', after: await failed(failure.message, { retry_at: now(deps), next_channel: fallback }) };
      return { outcome: 'FAILED', after: await failed(failure.message) };
    }
    const recorded = await recordOutcome(id, { type: 'RecordDelivery', send, attempt, channel, provider, outcome: { ok: true }, at: now(deps) });
    return { outcome: 'DELIVERED', after: recorded.state };
  };

  // One trace per delivery step (the worker runs outside any request): its reads, appends and
  // provider calls, and the log lines written meanwhile carry its ids.
  return (challengeId: string): Promise<DeliveryOutcome> => deps.tracer('deliver challenge', { 'otp.challenge_id': challengeId }, () => deliverDue(challengeId));

  async function deliverDue(challengeId: string): Promise<DeliveryOutcome> {
    let outcome: DeliveryOutcome = 'NOTHING_TO_DO';
    // Loops so a resend that lands while an earlier code is being delivered is sent as well: the
    // append recording the delivery would have met it (a conflict re-reads), so the state it
    // leaves behind is current and the next round needs no read.
    let known: ChallengeState | undefined;
    for (let round = 0; round < 5; round++) {
      const state = known ?? (await deps.load(ChallengeAggregate, challengeStream(challengeId)));
      known = undefined;
      if (state.status === 'NONE' || state.channel === null) return outcome;
      if (state.status !== 'PENDING') {
        await shredCodes(deps, state);
        return outcome;
      }
      if (isPastExpiry(state, now(deps))) {
        const expired = await deps.handle(ChallengeAggregate, challengeStream(challengeId), () => ({ type: 'ExpireChallenge' as const, at: now(deps) }));
        if (expired._tag === 'Right' && expired.right.state.status !== 'NONE') await shredCodes(deps, expired.right.state);
        return outcome;
      }
      const { delivery } = state;
      const delivered = delivery.delivered_send >= state.sends;
      const due = delivery.retry_at === undefined || Date.parse(delivery.retry_at) <= deps.clock().getTime();
      if (delivered || delivery.status === 'FAILED' || !due) return outcome;
      const step = await deliverOnce(state);
      outcome = step.outcome;
      // Delivered, or the outcome of a send a resend replaced meanwhile (which left the newer
      // send due): the state the append left is current, and the next round sends what is due.
      const replaced = step.after !== undefined && step.after.status !== 'NONE' && step.after.sends > state.sends;
      if (outcome !== 'DELIVERED' && !replaced) return outcome;
      known = step.after;
    }
    return outcome;
  }
};
