import type { Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import type { Deps } from '../deps.js';
import type { RateDecision } from '../ports.js';

/** Takes back the hits `taken` counted, best effort: one whose release throws is logged and stays counted until it leaves its window. */
export const giveBack = async (deps: Pick<Deps, 'logger'>, what: string, taken: readonly (RateDecision | undefined)[]): Promise<void> => {
  const failures = await Promise.allSettled(taken.map((decision) => decision?.release?.()));
  const failed = failures.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed)
    deps.logger.warn(`${what} not given back; it counts until it leaves its window`, {
      reason: failed.reason instanceof Error ? failed.reason.message : String(failed.reason),
    });
};

/**
 * Runs `send`, which counts hits against limits on its way (listed by `taken` once it is done),
 * and keeps them only if it answers Right (its code on its way): a rejection gives them back,
 * since no code went. An exception (the store down, a timeout) may come from an append that
 * landed, and the delivery worker sends whatever is in the log: the hits are given back only if
 * `wentAnyway` then says no code went (and kept if it cannot tell, or throws).
 */
export const keptIfSent = async <T>(
  deps: Pick<Deps, 'logger'>,
  what: string,
  taken: () => readonly (RateDecision | undefined)[],
  send: () => Promise<Either<Rejection, T>>,
  wentAnyway?: () => Promise<boolean>,
): Promise<Either<Rejection, T>> => {
  let sent: Either<Rejection, T>;
  try {
    sent = await send();
  } catch (error) {
    if (wentAnyway !== undefined && !(await wentAnyway().catch(() => true))) await giveBack(deps, what, taken());
    throw error;
  }
  if (sent._tag === 'Left') await giveBack(deps, what, taken());
  return sent;
};

/** `check`, asked at most once however many wait on it. */
export const once = (check: () => Promise<boolean>): (() => Promise<boolean>) => {
  let answer: Promise<boolean> | undefined;
  return () => (answer ??= check());
};
