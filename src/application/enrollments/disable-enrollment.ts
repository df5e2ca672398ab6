import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { OtpMethod } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { enrollmentStreamFor, factorMethods } from '../ids.js';

/**
 * Disables one method, or every method when none is named. When no active factor remains, the
 * recovery codes go too: they must not outlive the factors they back up.
 */
export const makeDisableEnrollment =
  (deps: Pick<Deps, 'handle' | 'keyedHash' | 'clock' | 'load'>) =>
  async (app: ActiveApp, username: string, method?: OtpMethod): Promise<Either<Rejection, { success: true }>> => {
    const streamOf = (m: OtpMethod | 'RECOVERY') => enrollmentStreamFor(deps.keyedHash, app.app_id, username, m);
    const disable = (stream: string) => deps.handle(EnrollmentAggregate, stream, () => ({ type: 'DisableEnrollment' as const, at: now(deps) }));

    const targets = method ? [method] : factorMethods;
    const outcomes = await Promise.all(targets.map((m) => disable(streamOf(m))));
    const failed = outcomes.find((o) => o._tag === 'Left' && o.left.code !== 'NOT_ENROLLED');
    if (failed) return failed as Either<Rejection, never>;
    if (outcomes.every((o) => o._tag === 'Left')) return left(reject('NOT_ENROLLED', 'No such enrollment'));

    const remaining = await Promise.all(factorMethods.map((m) => deps.load(EnrollmentAggregate, streamOf(m))));
    if (!remaining.some((s) => s.kind === 'FACTOR' && s.status === 'ACTIVE')) {
      const recovery = await disable(streamOf('RECOVERY'));
      if (recovery._tag === 'Left' && recovery.left.code !== 'NOT_ENROLLED') return recovery;
    }
    return right({ success: true });
  };
