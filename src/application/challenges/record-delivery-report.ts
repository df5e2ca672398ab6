import { challengeStream, reportStanding, type Challenge, type RecordDeliveryReport } from '../../domain/challenge/index.js';
import { clientAppStream } from '../../domain/client-app/index.js';
import type { Channel } from '../../domain/shared/types.js';
import { ChallengeAggregate, ClientAppAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { addSeconds } from '../../domain/shared/time.js';
import { retryDelaySeconds } from './deliver-challenge.js';
import { fallbackChannel } from './fallback.js';
import { settledStanding } from './settled-standing.js';

/** A provider's report that a message it accepted was not delivered, for the send, attempt and channel it was registered for. */
export type DeliveryReport = {
  readonly challenge_id: string;
  readonly send: number;
  /**
   * Unnamed when the provider sends one message per send whatever the attempts (Resend, by the
   * idempotency key): the report is then of the send, and covers every attempt at it.
   */
  readonly attempt?: number;
  readonly channel: Channel;
  readonly provider: string;
  /** What went wrong, from the provider's status and error code only (never the destination). */
  readonly reason: string;
  /** The provider failed for its own pace (its queue, a rate), not for the recipient: tried again on the same channel. */
  readonly throttled: boolean;
};

/**
 * `FAILED`: the send failed for good; `FELL_BACK`: it goes out again on the fallback channel;
 * `RETRY_SCHEDULED`: on the same channel, later (the provider was throttled); `IGNORED`: the
 * report changes nothing (a repeat, an attempt or send replaced since, a closed or unknown
 * challenge); `NOT_RECORDED`: it applies but could not be recorded now (too much contention).
 */
export type ReportOutcome = 'FAILED' | 'FELL_BACK' | 'RETRY_SCHEDULED' | 'IGNORED' | 'NOT_RECORDED';

type ReportDeps = Pick<Deps, 'handle' | 'load' | 'loadRecent' | 'appStalenessMs' | 'delivery' | 'clock' | 'logger' | 'limits'>;

/**
 * Records a late delivery failure (a status callback) against the attempt the challenge counts
 * delivered: the send is tried again on the same channel after a backoff when the provider was
 * throttled; otherwise it moves to the app's fallback channel, when it has one this deployment
 * delivers, or fails for good, so the app sees FAILED rather than SENT.
 */
export const makeRecordDeliveryReport = (deps: ReportDeps) => {
  /** What follows the failure: a throttled retry on the channel, else the fallback, else nothing (failed for good). */
  const followUp = async (state: Challenge, report: DeliveryReport): Promise<Pick<RecordDeliveryReport, 'retry_at' | 'next_channel' | 'throttled'>> => {
    if (report.throttled) {
      // Backing off by the send's rate refusals on the channel, as the worker does; not if that
      // would come only once the code has expired.
      const again = addSeconds(now(deps), retryDelaySeconds(deps.limits, report.challenge_id, (state.delivery.throttled ?? 0) + 1));
      if (Date.parse(again) < Date.parse(state.expires_at)) return { retry_at: again, throttled: true };
    }
    // Policy as recent as the delivery worker reads it; a deleted app gets no fallback.
    const app = await deps.loadRecent(ClientAppAggregate, clientAppStream(state.app_id), deps.appStalenessMs);
    const next = app.status === 'ACTIVE' ? fallbackChannel(deps, app.policy, state, report.channel) : undefined;
    return next ? { retry_at: now(deps), next_channel: next } : {};
  };

  return async (report: DeliveryReport): Promise<ReportOutcome> => {
    const stream = challengeStream(report.challenge_id);
    const log = { challenge_id: report.challenge_id, send: report.send, attempt: report.attempt, channel: report.channel, provider: report.provider };
    const notApplied = (outcome: 'IGNORED' | 'NOT_RECORDED', why: object): ReportOutcome => {
      deps.logger[outcome === 'IGNORED' ? 'info' : 'warn']('delivery report not applied', { ...log, ...why, outcome });
      return outcome;
    };
    const { state, standing } = await settledStanding(deps, stream, (current) => reportStanding(current, report));
    // Still in flight after the wait (the worker crashed after its call, or is slow): the report applies all the same (report.ts).
    const applies = (current: typeof standing) => current === 'CURRENT' || current === 'IN_FLIGHT';
    if (!applies(standing) || state.status === 'NONE') return notApplied('IGNORED', { standing });
    const { challenge_id: _id, throttled: _throttled, ...fields } = report;
    const next = await followUp(state, report);
    const recorded = await deps.handle(ChallengeAggregate, stream, () => ({ type: 'RecordDeliveryReport', ...fields, ...next, at: now(deps) }) satisfies RecordDeliveryReport);
    // Refused: either what the stream held by the time of the append (another report of it, a
    // close) made the report stale, or the append gave up on contention; a fresh read tells.
    if (recorded._tag === 'Left')
      return notApplied(applies(reportStanding(await deps.load(ChallengeAggregate, stream), report)) ? 'NOT_RECORDED' : 'IGNORED', { refused: recorded.left.code });
    const outcome: ReportOutcome = next.next_channel ? 'FELL_BACK' : next.retry_at ? 'RETRY_SCHEDULED' : 'FAILED';
    deps.logger.info('delivery failure reported by the provider', { ...log, reason: report.reason, outcome, ...next });
    return outcome;
  };
};
