import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { addSeconds, secondsUntil, toMillis } from '../../domain/shared/time.js';
import type { Challenge } from '../../domain/challenge/index.js';
import type { ActiveApp } from '../apps/app-view.js';
import { now, type Deps } from '../deps.js';

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
 * would put the next on its way; requests at the same instant read the same one. The first to
 * take the slot they name goes on, and the others answer RESEND_TOO_SOON, as they would a
 * moment later once the winner's code is out. A later request reads the winner's code, so its
 * slot is another: a send after a challenge closes is not held up, and nothing needs releasing.
 * Taken once the send caps would allow the send (a send they refuse takes no slot, so a caller
 * already over a cap cannot hold a recipient's sends up) and before they are spent (the losers
 * spend none of them); a winner that then fails (a concurrent send took a cap's last hit, the
 * store is down) leaves its slot taken until the cooldown has passed. The rate limiter, not the
 * replay guard: while Redis is unreachable it counts per process instead of letting every claim
 * through. None with a cooldown of 0.
 */
export const claimNextCode = async (deps: Pick<Deps, 'rateLimit'>, app: ActiveApp, recipient: string, after: string | undefined): Promise<Rejection | undefined> => {
  const cooldown = app.policy.resend_cooldown_seconds;
  if (cooldown === 0) return undefined;
  const slot = await deps.rateLimit(`next-code:${recipient}:${after ?? 'none'}`, 1, cooldown);
  return slot.allowed ? undefined : tooSoon(slot.retry_after_seconds);
};
