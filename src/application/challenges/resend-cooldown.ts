import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { addSeconds, secondsUntil, toMillis } from '../../domain/shared/time.js';
import type { Challenge } from '../../domain/challenge/index.js';
import type { ActiveApp } from '../apps/app-view.js';
import { now, type Deps } from '../deps.js';

/**
 * RESEND_TOO_SOON, with the seconds left, while `sent` (an open challenge) was last sent less
 * than the app's resend_cooldown_seconds ago: a second send (POST /api/code/send) or a
 * pending factor registered again would put another code on its way at once.
 */
export const resendTooSoon = (deps: Pick<Deps, 'clock'>, app: ActiveApp, sent: Challenge): Rejection | undefined => {
  const at = now(deps);
  const ready = addSeconds(sent.last_sent_at, app.policy.resend_cooldown_seconds);
  if (toMillis(ready) <= toMillis(at)) return undefined;
  return reject('RESEND_TOO_SOON', 'A code was sent recently; wait before asking again', { retryAfterSeconds: secondsUntil(at, ready) });
};
