import type { Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { addSeconds, secondsUntil, toMillis } from '../../domain/shared/time.js';
import type { Challenge } from '../../domain/challenge/index.js';
import type { ActiveApp } from '../apps/app-view.js';
import { now, type Deps } from '../deps.js';
import { keptIfSent } from './give-back.js';
import type { RateDecision } from '../ports.js';

const tooSoon = (retryAfterSeconds: number): Rejection =>
  reject('RESEND_TOO_SOON', 'A code was sent recently; wait before asking again', { retryAfterSeconds });

/**
 * RESEND_TOO_SOON, with the seconds left, while `sent` (an open challenge) was last sent less
 * than the app's resend_cooldown_seconds ago: a second send (POST /api/code/send) or a
 * pending factor registered again would put another code on its way at once.
 */
export const resendTooSoon = (deps: Pick<Deps, 'clock'>, app: ActiveApp, sent: Challenge): Rejection | undefined => {
  const at = now(deps);
  const ready = addSeconds(sent.last_sent_at, app.policy.resend_cooldown_seconds);
  if (toMillis(ready) <= toMillis(at)) return undefined;
  return tooSoon(secondsUntil(at, ready));
};

/**
 * The cooldown for requests at the same instant, which `resendTooSoon` cannot give. A new code
 * goes on a new challenge's stream, so the event store's concurrency control does not order two
 * of them; and every request checks the send caps before its stream would refuse it, so
 * concurrent resends would spend the recipient's caps for one resend. The caller read `after`,
 * the last code it knows for `recipient` (its challenge and when it was last sent, or none), and
 * `send` would put the next on its way; requests at the same instant read the same one. The
 * first to take the slot they name goes on, and the others answer RESEND_TOO_SOON, as they would
 * a moment later once the winner's code is out. A later request reads the winner's code, so its
 * slot is another: a send after a challenge closes is not held up.
 * `send` takes the slot with `claim`, its send caps' `beforeSpending`: once the caps would allow
 * the send (a send they refuse takes no slot, so a caller already over a cap cannot hold a
 * recipient's sends up) and before they are spent (the losers spend none of them). The slot is
 * kept only if `send` answers Right, its code on its way; a rejection after the slot was taken
 * (a concurrent send took a cap's last hit, the stream refused the resend) gives it back, so a
 * retry goes at once, and so does an exception (the store is down) once `wentAnyway` has found
 * that no code went (an append can land though its answer is lost; if that cannot be told, the
 * slot is kept). Best effort: a release that does not happen (Redis failing) or throws (logged)
 * leaves the slot taken until the cooldown has passed. The rate limiter, not the replay guard: while
 * Redis is unreachable it counts per process instead of letting every claim through. None with a
 * cooldown of 0.
 */
export const claimNextCode = async <T>(
  deps: Pick<Deps, 'rateLimit' | 'logger'>,
  app: ActiveApp,
  recipient: string,
  after: string | undefined,
  send: (claim: () => Promise<Rejection | undefined>) => Promise<Either<Rejection, T>>,
  wentAnyway: () => Promise<boolean>,
): Promise<Either<Rejection, T>> => {
  const cooldown = app.policy.resend_cooldown_seconds;
  let taken: RateDecision | undefined;
  const claim = async (): Promise<Rejection | undefined> => {
    if (cooldown === 0) return undefined;
    const slot = await deps.rateLimit(`next-code:${recipient}:${after ?? 'none'}`, 1, cooldown);
    if (!slot.allowed) return tooSoon(slot.retry_after_seconds);
    taken = slot;
    return undefined;
  };
  return keptIfSent(deps, 'next-code slot', () => [taken], () => send(claim), wentAnyway);
};
