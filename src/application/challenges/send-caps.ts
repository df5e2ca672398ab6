import { left, type Either } from 'fp-ts/lib/Either.js';
import type { SendCapReason } from '../../domain/client-app/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { mailboxOf } from '../../domain/shared/mailbox.js';
import { DAY_SECONDS } from '../../domain/shared/time.js';
import type { ActiveApp } from '../apps/app-view.js';
import type { Deps } from '../deps.js';
import type { ParsedDestination } from '../ports.js';
import { clientTagFor } from '../ids.js';
import { giveBack, keptIfSent } from './give-back.js';
import { makeRecordRefusal } from './record-refusal.js';

const HOUR = 3_600;

const capRefusals: Readonly<Record<SendCapReason, string>> = {
  IP_CAP: "Too many codes sent for this end user's address (end_user_ip)",
  APP_DAILY_BUDGET: "The app's sends for the day are spent (max_sends_per_app_per_day)",
  NUMBER_BLOCK_CAP: 'Too many codes sent to numbers next to this one (max_sends_per_number_block_per_hour)',
  RECIPIENT_CAP: 'Too many codes sent to this recipient (max_sends_per_recipient_per_hour)',
};

/**
 * Counts a send against every cap, before any provider is called: per requester IP (when the
 * send has one) among the apps of the app's operator, per app per day, per block of
 * neighbouring numbers (sequential-number SMS pumping) and per recipient.
 * A refusal is recorded in the app's abuse log so operators can see the attack.
 * `beforeSpending` runs once every cap would allow the send and before any is spent: a
 * rejection it gives is the answer, and no cap is spent. What it takes is the caller's to give
 * back if a cap then refuses (`claimNextCode` does). Then `send` runs, and the caps keep their
 * hits only if it answers Right: a send that is refused (its challenge refusing a resend), or
 * that throws (the store down) when `wentAnyway` then finds no code went, sent nothing, so it
 * costs the recipient, the app and the address nothing either. A send that throws and may have
 * gone (its append landed though the answer was lost, or nothing can tell) keeps them: the
 * delivery worker sends what is in the log, and the caps must bound what it sends.
 */
export const makeSendWithinCaps = (deps: Pick<Deps, 'rateLimit' | 'limits' | 'keyedHash' | 'store' | 'eventMetadata' | 'clock' | 'logger'>) => {
  const recordRefusal = makeRecordRefusal(deps);
  return async <T>(
    app: ActiveApp,
    clientIp: string | undefined,
    to: ParsedDestination,
    send: () => Promise<Either<Rejection, T>>,
    beforeSpending?: () => Promise<Rejection | undefined>,
    wentAnyway?: () => Promise<boolean>,
  ): Promise<Either<Rejection, T>> => {
    // Per mailbox, not per spelling, for emails (mailbox.ts); a phone is its E.164 form already.
    const recipient = deps.keyedHash('destination', to.country_calling_code === null ? mailboxOf(to.normalized) : to.normalized);
    const refuse = async (reason: SendCapReason, retryAfter: number): Promise<Either<Rejection, never>> => {
      await recordRefusal(app.app_id, { reason, to_hint: to.hint, ...(clientIp === undefined ? {} : { client: clientTagFor(deps.keyedHash, clientIp, `owner:${app.owner_id}`) }) });
      return left(reject('RATE_LIMITED', `${capRefusals[reason]}; try again later`, { retryAfterSeconds: retryAfter, reason }));
    };
    type Cap = { reason: SendCapReason; key: string; limit: number; window: number };
    const caps: readonly Cap[] = [
      // Per operator: the address is the caller's word (`end_user_ip`), and one tenant's word
      // must not spend another's allowance (a shared NAT's address, named 60 times an hour).
      ...(clientIp === undefined ? [] : [{ reason: 'IP_CAP', key: `send-ip:${app.owner_id}:${clientIp}`, limit: deps.limits.sendsPerIpPerHour, window: HOUR } satisfies Cap]),
      { reason: 'APP_DAILY_BUDGET', key: `send-app:${app.app_id}`, limit: app.policy.max_sends_per_app_per_day, window: DAY_SECONDS },
      ...(to.country_calling_code !== null
        ? [{ reason: 'NUMBER_BLOCK_CAP', key: `send-block:${app.app_id}:${deps.keyedHash('destination', to.normalized.slice(0, -3))}`, limit: app.policy.max_sends_per_number_block_per_hour, window: HOUR } satisfies Cap]
        : []),
      { reason: 'RECIPIENT_CAP', key: `send-to:${app.app_id}:${recipient}`, limit: app.policy.max_sends_per_recipient_per_hour, window: HOUR },
    ];
    // Every cap is checked before any is spent, so a send refused by one cap costs the others
    // nothing. The caps are asked together (one Redis round trip with auto-pipelining, instead
    // of one per cap); a refusal names the first refusing cap in the order above. While Redis
    // is failing over, one send's caps may be answered partly by Redis and partly by the
    // in-process fallback (resilient.ts), as concurrent sends already could be.
    const ask = async (options?: { readonly peek: true }) => {
      const asked = await Promise.allSettled(caps.map((cap) => deps.rateLimit(cap.key, cap.limit, cap.window, options)));
      const decisions = asked.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined));
      const failed = asked.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed) {
        // One cap threw: the others' hits go back before the error goes on.
        if (!options?.peek) await giveBack(deps, 'send cap hit', decisions);
        throw failed.reason;
      }
      const at = decisions.findIndex((decision) => !decision!.allowed);
      return { decisions, refused: at < 0 ? undefined : { reason: caps[at]!.reason, retryAfter: decisions[at]!.retry_after_seconds } };
    };
    const { refused: wouldRefuse } = await ask({ peek: true });
    if (wouldRefuse) return refuse(wouldRefuse.reason, wouldRefuse.retryAfter);
    const first = await beforeSpending?.();
    if (first) return left(first);
    const spent = await ask();
    // Only a concurrent send that took a cap's last slot in between is refused here; the other
    // caps give back the hits they counted for it.
    if (spent.refused) {
      await giveBack(deps, 'send cap hit', spent.decisions);
      return refuse(spent.refused.reason, spent.refused.retryAfter);
    }
    return keptIfSent(deps, 'send cap hit', () => spent.decisions, send, wentAnyway);
  };
};
