import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream, isPastExpiry } from '../../domain/challenge/index.js';
import { enrollmentStream } from '../../domain/enrollment/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { OtpMethod, TotpAlgorithm } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { ChallengeAggregate, EnrollmentAggregate } from '../aggregates.js';
import { makeCancelChallenge } from '../challenges/cancel-challenge.js';
import { challengeIssued, makeIssueCode } from '../challenges/issue-code.js';
import { resendTooSoon } from '../challenges/resend-cooldown.js';
import { makeResolveDestination } from '../challenges/resolve-destination.js';
import { makeSendNextCode } from '../challenges/send-next-code.js';
import { now, type Deps } from '../deps.js';
import { enrollmentIdFor } from '../ids.js';
import { spendDailyBudget } from '../apps/daily-budget.js';
import { shredSealed } from './shred-sealed.js';
import type { SealedSecret } from '../../domain/shared/sealed.js';

export type RegisterEnrollmentInput = {
  readonly app: ActiveApp;
  readonly username: string;
  readonly otp_method: OtpMethod;
  readonly destination?: string;
  /** An existing base32 seed to import (TOTP only). */
  readonly secret?: string;
  /** The requester's address as the per-IP send cap counts it; undefined: no per-IP cap (an app backend that passed no end-user address). */
  readonly client_ip: string | undefined;
  /** How the QR code of a TOTP seed is returned: a PNG data URL, or the PNG bytes. */
  readonly qr_format?: 'data_url' | 'png';
};

export type RegisterEnrollmentResult =
  | {
      readonly kind: 'TOTP';
      readonly enrollment_id: string;
      readonly status: 'PENDING';
      readonly secret: string;
      /** As the URI says them, for users who type the seed in (apps that take the URI may ignore some). */
      readonly digits: 6 | 8;
      readonly period: 30 | 60;
      readonly algorithm: TotpAlgorithm;
      readonly otpauth_uri: string;
      readonly qr_code: string | Buffer;
    }
  | { readonly kind: 'SENT'; readonly enrollment_id: string; readonly status: 'PENDING'; readonly challenge_id: string };

type RegisterDeps = Parameters<typeof makeIssueCode>[0] &
  Parameters<typeof makeResolveDestination>[0] &
  Parameters<typeof makeSendNextCode>[0] &
  Parameters<typeof makeCancelChallenge>[0] &
  Pick<Deps, 'totp' | 'qr' | 'load' | 'rateLimit' | 'vault' | 'logger'>;

/**
 * Starts (or restarts) a factor in PENDING. TOTP returns the seed once; sent-code methods send
 * a confirmation code through a challenge that `enable` later checks. A restart cancels the
 * confirmation challenge it replaces, so an earlier code sent for it approves nothing.
 */
export const makeRegisterEnrollment = (deps: RegisterDeps) => {
  const resolveDestination = makeResolveDestination(deps);
  const issueCode = makeIssueCode(deps);
  const sendNextCode = makeSendNextCode(deps);
  const cancelChallenge = makeCancelChallenge(deps, 'ENROLLMENT');
  /** The cooldown of a pending factor's confirmation challenge, while it is open (as POST /api/code/send counts an open one). */
  const confirmationTooSoon = async (app: ActiveApp, challengeId: string | undefined): Promise<Rejection | undefined> => {
    if (challengeId === undefined) return undefined;
    const sent = await deps.load(ChallengeAggregate, challengeStream(challengeId));
    return sent.status === 'PENDING' && !isPastExpiry(sent, now(deps)) ? resendTooSoon(deps, app, sent) : undefined;
  };

  return async (input: RegisterEnrollmentInput): Promise<Either<Rejection, RegisterEnrollmentResult>> => {
    const { app, username, otp_method: method } = input;
    const enrollmentId = enrollmentIdFor(deps.keyedHash, app.app_id, username, method);
    const stream = enrollmentStream(enrollmentId);
    const current = await deps.load(EnrollmentAggregate, stream);
    if (current.kind === 'FACTOR' && current.status === 'ACTIVE')
      return left(reject('ALREADY_ENROLLED', 'This method is already active for this user'));
    const start = { type: 'StartEnrollment' as const, enrollment_id: enrollmentId, app_id: app.app_id, username, method };

    if (method === 'TOTP') {
      const secret = input.secret === undefined ? deps.totp.generateSecret() : deps.totp.parseSecret(input.secret);
      if (secret === null)
        return left(reject('INVALID_SECRET', 'The secret is not a base32 TOTP seed of at least 20 bytes', { details: [{ field: 'secret', message: 'must be base32 of at least 20 bytes (32 characters)' }] }));
      const budget = await spendDailyBudget(deps, app, 'enroll');
      if (budget._tag === 'Left') return budget;
      const { digits, period, algorithm } = app.policy.totp;
      const sealed = await deps.vault.seal(secret, stream);
      let replaced: SealedSecret | undefined;
      const started = await deps.handle(EnrollmentAggregate, stream, (state) => {
        replaced = state.kind === 'FACTOR' ? state.secret : undefined;
        return { ...start, secret: sealed, secret_generated: input.secret === undefined, totp: { digits, period, algorithm }, at: now(deps) };
      });
      if (started._tag === 'Left') return started;
      if (replaced !== undefined) await shredSealed(deps, replaced);
      const otpauth_uri = deps.totp.uri({ secret, issuer: app.policy.issuer ?? app.name, account: username, digits, period, algorithm });
      const qr_code = input.qr_format === 'png' ? await deps.qr.png(otpauth_uri) : await deps.qr.dataUrl(otpauth_uri);
      return right({ kind: 'TOTP', enrollment_id: enrollmentId, status: 'PENDING', secret, digits, period, algorithm, otpauth_uri, qr_code });
    }

    if (input.destination === undefined)
      return left(reject('INVALID_DESTINATION', 'destination is required for this method', { details: [{ field: 'destination', message: 'required for SMS, EMAIL and WHATSAPP' }] }));
    const destination = await resolveDestination(app, username, method, input.destination, 'destination');
    if (destination._tag === 'Left') return destination;
    // A pending factor registered again sends a new confirmation code: within the app's resend
    // cooldown of the last one, refused as a second POST /api/code/send is (nothing sent or
    // written). Whatever the destination: the factor keeps only its latest challenge, so a
    // cooldown per destination would let two addresses taking turns skip it.
    const tooSoon = current.kind === 'FACTOR' && current.status === 'PENDING' ? await confirmationTooSoon(app, current.challenge_id) : undefined;
    if (tooSoon) return left(tooSoon);
    // Registrations at the same instant all pass that check (and a first one has nothing to
    // check): the first to take the slot for the factor's next challenge goes on, once the caps
    // would allow it and before they are spent, as for a send. Each registration issues a new
    // challenge, so the current one names the slot. Given back unless the challenge is issued
    // (its code is then on its way, whatever becomes of the start below).
    const challengeId = deps.newId();
    const issued = await sendNextCode(app, {
      recipient: `enroll:${enrollmentId}`,
      after: current.kind === 'FACTOR' ? current.challenge_id : undefined,
      clientIp: input.client_ip,
      to: destination.right,
      send: () => issueCode({ app, username, channel: method, destination: destination.right, purpose: 'ENROLLMENT', enrollment_id: enrollmentId, challenge_id: challengeId }),
      wentAnyway: () => challengeIssued(deps, challengeId),
    });
    if (issued._tag === 'Left') return issued;
    const { challenge } = issued.right;
    const sealed = await deps.vault.seal(destination.right.normalized, stream);
    // The challenge this start replaces, as the state it is decided on says (a concurrent
    // registration's included).
    let replaced: string | undefined;
    let replacedDestination: SealedSecret | undefined;
    const started = await deps.handle(EnrollmentAggregate, stream, (state) => {
      replaced = state.kind === 'FACTOR' && state.status === 'PENDING' ? state.challenge_id : undefined;
      replacedDestination = state.kind === 'FACTOR' ? state.destination : undefined;
      return { ...start, destination: sealed, destination_hint: destination.right.hint, challenge_id: challenge.challenge_id, at: now(deps) };
    });
    if (started._tag === 'Left') return started;
    if (replacedDestination !== undefined) await shredSealed(deps, replacedDestination);
    // Already closed (approved, expired, canceled) is as good: its result does not matter.
    if (replaced !== undefined && replaced !== challenge.challenge_id) await cancelChallenge(app.app_id, replaced);
    return right({ kind: 'SENT', enrollment_id: enrollmentId, status: 'PENDING', challenge_id: challenge.challenge_id });
  };
};
