import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { OtpMethod } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { enrollmentStreamFor, factorMethods } from '../ids.js';
import type { SealedSecret } from '../../domain/shared/sealed.js';
import { shredSealed } from './shred-sealed.js';

/**
 * Disables one method, or every method when none is named. When no active factor remains, the
 * recovery codes go too: they must not outlive the factors they back up. A disabled factor's
 * seed or destination is shredded (its data key destroyed).
 */
export const makeDisableEnrollment =
  (deps: Pick<Deps, 'handle' | 'keyedHash' | 'clock' | 'load' | 'vault' | 'logger'>) =>
  async (app: ActiveApp, username: string, method?: OtpMethod): Promise<Either<Rejection, { success: true }>> => {
    const streamOf = (m: OtpMethod | 'RECOVERY') => enrollmentStreamFor(deps.keyedHash, app.app_id, username, m);
    const disable = async (stream: string) => {
      let factor: { secret?: SealedSecret; destination?: SealedSecret } = {};
      const outcome = await deps.handle(EnrollmentAggregate, stream, (state) => {
        factor = state.kind === 'FACTOR' ? state : {};
        return { type: 'DisableEnrollment' as const, at: now(deps) };
      });
      // Its seed or destination is not needed again: a factor is started anew with new ones.
      if (outcome._tag === 'Right' && outcome.right.events.length > 0) await shredSealed(deps, factor.secret, factor.destination);
      return outcome;
    };

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
