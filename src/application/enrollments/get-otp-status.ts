import type { EnrollmentStatus } from '../../domain/enrollment/index.js';
import type { OtpMethod } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import { enrollmentStreamFor, factorMethods } from '../ids.js';

export type OtpStatus = {
  readonly enabled: boolean;
  readonly methods: readonly { readonly otp_method: OtpMethod; readonly status: EnrollmentStatus; readonly destination_hint: string | null }[];
  readonly recovery_codes_remaining: number;
};

/** Read from the enrollment streams themselves, so it is current. Unknown users look like users without factors. */
export const makeGetOtpStatus =
  (deps: Pick<Deps, 'keyedHash' | 'load'>) =>
  async (app: ActiveApp, username: string): Promise<OtpStatus> => {
    const load = (m: OtpMethod | 'RECOVERY') =>
      deps.load(EnrollmentAggregate, enrollmentStreamFor(deps.keyedHash, app.app_id, username, m));
    const [recovery, ...factors] = await Promise.all([load('RECOVERY'), ...factorMethods.map(load)]);
    const methods = factors.flatMap((s) =>
      s.kind === 'FACTOR' ? [{ otp_method: s.method, status: s.status, destination_hint: s.destination_hint ?? null }] : [],
    );
    return {
      enabled: methods.some((m) => m.status === 'ACTIVE'),
      methods,
      recovery_codes_remaining:
        recovery?.kind === 'RECOVERY' && recovery.status === 'ACTIVE' ? recovery.code_hashes.length - recovery.used.length : 0,
    };
  };
