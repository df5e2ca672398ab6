import { NO_COUNTS, unknownUserFailure, type AttemptPolicy } from '../../domain/enrollment/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { now, type Deps } from '../deps.js';
import { conflictBackoff, contention } from '../handle-command.js';
import type { KeyedLock } from '../keyed-lock.js';

/** How often a failure of an unknown name is decided again when a concurrent one moved its counts first. */
const DECOY_TRIES = 20;

export type UnknownUserDeps = Pick<Deps, 'decoys' | 'clock' | 'newId' | 'rateLimit' | 'logger'>;

/**
 * A user without the factor, answered as a known user with a wrong code is: the enrollment
 * decider decides the failure on counts kept for the name (`unknownUserFailure`), written back
 * with a compare-and-set, so concurrent failures are each counted as a known user's are
 * through the stream's expected revision. Queued per name in this process, as commands are per
 * stream, and retried after a short random wait when another process wrote first. The writes
 * of one verification carry one id, so a write that was kept though its answer was lost (Redis
 * slower than its timeout) is found on the next read instead of counted twice. Says whether
 * the failure was counted (a known user's would have been recorded in the log).
 */
export const makeUnknownUserFailure =
  (deps: UnknownUserDeps, lock: KeyedLock) =>
  (appId: string, enrollmentId: string, attempts: AttemptPolicy): Promise<{ readonly refusal: Rejection; readonly counted: boolean }> =>
    lock(enrollmentId, async () => {
      const writer = deps.newId();
      let unsure: Rejection | undefined;
      for (let attempt = 1; attempt <= DECOY_TRIES; attempt++) {
        const read = await deps.decoys.read(appId, enrollmentId);
        if (unsure && read.writer === writer) return { refusal: unsure, counted: true };
        const { next, answer } = unknownUserFailure(read.counts ?? NO_COUNTS, attempts, now(deps));
        if (next === null) return { refusal: answer, counted: false };
        unsure = answer;
        const outcome = await deps.decoys.write(appId, enrollmentId, read, next, writer);
        if (outcome.forgot > 0) await noteForgotten(deps, appId);
        if (outcome.written) return { refusal: answer, counted: true };
        await conflictBackoff(attempt);
      }
      return { refusal: contention(), counted: false };
    });

/**
 * Said once an hour per app: the decoy pushed out names to keep within its bound, so a caller
 * failing that many made-up (or listed) names can tell the names it pushed out from known users
 * (they count down from the start again). An enumeration attempt, or a figure too low for an
 * app whose users mistype their names that often.
 */
const noteForgotten = async (deps: UnknownUserDeps, appId: string): Promise<void> => {
  if ((await deps.rateLimit(`decoy-forgot-log:${appId}`, 1, 3600)).allowed)
    deps.logger.warn(
      "the unknown-user decoy forgot the app's least recently failed usernames: its callers fail more unknown usernames than VERIFY_UNKNOWN_USERS_PER_APP keeps (an enumeration attempt, or a figure too low for the app)",
      { app_id: appId },
    );
};
