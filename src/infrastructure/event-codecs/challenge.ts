import * as t from 'io-ts';
import type { ChallengeEvent } from '../../domain/challenge/events.js';
import { channel, instant, integer, literals, nullable, sealedSecret, strictObject, type CodecsMatch } from './codec-kit.js';

const at = { at: instant };

export const challengeEventCodecs = {
  ChallengeIssued: strictObject(
    'ChallengeIssued',
    {
      challenge_id: t.string,
      app_id: t.string,
      username: t.string,
      channel: nullable(channel),
      purpose: literals(['VERIFICATION', 'ENROLLMENT']),
      code_hash: t.string,
      expires_at: instant,
      max_attempts: integer,
      at: instant,
    },
    {
      enrollment_id: t.string,
      destination: sealedSecret,
      to_hint: t.string,
      recipient_key: t.string,
      code_sealed: sealedSecret,
      locale: t.string,
    },
  ),
  ChallengeResent: strictObject('ChallengeResent', { code_hash: t.string, expires_at: instant, at: instant }, { code_sealed: sealedSecret, app_id: t.string, locale: t.string }),
  VerificationFailed: strictObject('VerificationFailed', at),
  ChallengeApproved: strictObject('ChallengeApproved', at),
  ChallengeLocked: strictObject('ChallengeLocked', at),
  ChallengeExpired: strictObject('ChallengeExpired', at),
  ChallengeCanceled: strictObject('ChallengeCanceled', at),
  DeliveryAttempted: strictObject('DeliveryAttempted', { send: integer, attempt: integer, channel, provider: t.string, at: instant }, { lease_until: instant }),
  DeliverySucceeded: strictObject('DeliverySucceeded', { provider: t.string, at: instant }, { send: integer, attempt: integer, channel, superseded_by: integer }),
  DeliveryFailed: strictObject(
    'DeliveryFailed',
    { provider: t.string, reason: t.string, permanent: t.boolean, at: instant },
    { send: integer, attempt: integer, channel, retry_at: instant, next_channel: channel, superseded_by: integer, late: t.literal(true), throttled: t.literal(true), app_id: t.string },
  ),
  DeliveryConfirmed: strictObject('DeliveryConfirmed', { send: integer, channel, provider: t.string, at: instant }, { attempt: integer, read: t.literal(true) }),
};

const _check: CodecsMatch<ChallengeEvent, typeof challengeEventCodecs> = true;
