import { left, map, right, type Either } from 'fp-ts/lib/Either.js';
import { challengeStream, isPastExpiry, type Challenge, type ChallengeState } from '../../domain/challenge/index.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import { addSeconds } from '../../domain/shared/time.js';
import type { Channel } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { challengeIssued, codeHash, expectChallenge, makeIssueCode, recipientKey } from './issue-code.js';
import { resendTooSoon } from './resend-cooldown.js';
import { makeResolveDestination } from './resolve-destination.js';
import { makeSendNextCode } from './send-next-code.js';

export type SendCodeInput = {
  readonly app: ActiveApp;
  readonly username: string;
  readonly channel: Channel;
  readonly to?: string;
  readonly locale?: string;
  /** The requester's address as the per-IP send cap counts it; undefined: no per-IP cap (an app backend that passed no end-user address). */
  readonly client_ip: string | undefined;
};
export type SendCodeResult = {
  readonly challenge_id: string;
  readonly status: 'PENDING';
  readonly channel: Channel;
  readonly expires_at: string;
  readonly to_hint: string;
};

type SendDeps = Pick<
  Deps,
  'handle' | 'store' | 'eventMetadata' | 'load' | 'readModels' | 'logger' | 'newId' | 'randomDigits' | 'keyedHash' | 'vault' | 'clock' | 'parseDestination' | 'rateLimit' | 'limits' | 'undeliverable'
>;

/**
 * The recipient's latest challenge as a slot name for `claimNextCode` (its id and when its code
 * was last sent), and the challenge if it is open: pending, unexpired, for a verification. A
 * second send resends an open one (same id, new code, same attempts).
 */
const findLatestChallenge = async (
  deps: SendDeps,
  recipient: string,
): Promise<{ readonly latest: string | undefined; readonly open: Challenge | null }> => {
  const doc = await deps.readModels.get('open_challenges', recipient);
  if (typeof doc?.challenge_id !== 'string') return { latest: undefined, open: null };
  const state = await deps.load(ChallengeAggregate, challengeStream(doc.challenge_id));
  if (state.status === 'NONE') return { latest: doc.challenge_id, open: null };
  const open = state.status === 'PENDING' && state.purpose === 'VERIFICATION' && !isPastExpiry(state, now(deps)) ? state : null;
  return { latest: `${doc.challenge_id}@${state.last_sent_at}`, open };
};

export const makeSendCode = (deps: SendDeps) => {
  const resolveDestination = makeResolveDestination(deps);
  const issueCode = makeIssueCode(deps);
  const sendNextCode = makeSendNextCode(deps);

  /** A new code for the open challenge (same id, same attempts), in the language asked for, if any. */
  const resend = async (app: ActiveApp, open: Challenge, locale: string | undefined): Promise<Either<Rejection, Challenge>> => {
    const code = deps.randomDigits(app.policy.code_length);
    const sealed = await deps.vault.seal(code, challengeStream(open.challenge_id));
    const at = now(deps);
    const resent = await deps.handle(ChallengeAggregate, challengeStream(open.challenge_id), () => ({
      type: 'ResendChallenge' as const,
      app_id: app.app_id,
      code_hash: codeHash(deps, open.challenge_id, code),
      code_sealed: sealed,
      ...(locale !== undefined ? { locale } : {}),
      expires_at: addSeconds(at, app.policy.code_ttl_seconds),
      cooldown_seconds: app.policy.resend_cooldown_seconds,
      at,
    }));
    return map(({ state }: { state: ChallengeState }) => expectChallenge(state))(resent);
  };

  return async (input: SendCodeInput): Promise<Either<Rejection, SendCodeResult>> => {
    const { app } = input;
    const destination = await resolveDestination(app, input.username, input.channel, input.to);
    if (destination._tag === 'Left') return destination;
    const to = destination.right;
    const recipient = recipientKey(deps, app.app_id, input.username, input.channel, to.normalized);
    const { latest, open } = await findLatestChallenge(deps, recipient);
    // A send too soon after the last code names the open challenge: a caller whose first
    // answer was lost (a timeout, then a retry) learns the id to verify the code on its way.
    const naming = (rejection: Rejection): Rejection => (open && rejection.code === 'RESEND_TOO_SOON' ? { ...rejection, challengeId: open.challenge_id } : rejection);
    const tooSoon = open ? resendTooSoon(deps, app, open) : undefined;
    if (tooSoon) return left(naming(tooSoon));
    // Sends at the same instant all pass the cooldown: the first to take the slot for the
    // recipient's next code goes on. Once the caps would allow it (a send they refuse takes no
    // slot) and before they are spent (the others spend none of them); given back if no code
    // goes after all.
    const challengeId = deps.newId(); // a first send's, chosen beforehand so that `wentAnyway` can look for it
    const sent = await sendNextCode(app, {
      recipient: `send:${recipient}`,
      after: latest,
      clientIp: input.client_ip,
      to,
      send: async () => {
        if (open) return resend(app, open, input.locale);
        const issued = await issueCode({
          app,
          username: input.username,
          channel: input.channel,
          destination: to,
          purpose: 'VERIFICATION',
          challenge_id: challengeId,
          ...(input.locale !== undefined ? { locale: input.locale } : {}),
        });
        return map(({ challenge }: { challenge: Challenge }) => challenge)(issued);
      },
      // Issued: the stream holds anything. Resent: the code was last sent later than `open` says.
      wentAnyway: async () =>
        open ? expectChallenge(await deps.load(ChallengeAggregate, challengeStream(open.challenge_id))).last_sent_at !== open.last_sent_at : challengeIssued(deps, challengeId),
    });
    if (sent._tag === 'Left') return left(naming(sent.left));
    const challenge = sent.right;
    // Answered once the challenge is stored; the delivery worker sends the code from the log.
    return right({ challenge_id: challenge.challenge_id, status: 'PENDING', channel: input.channel, expires_at: challenge.expires_at, to_hint: to.hint });
  };
};
