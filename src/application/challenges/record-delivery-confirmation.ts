import { challengeStream, confirmationStanding, type RecordDeliveryConfirmation } from '../../domain/challenge/index.js';
import type { Channel } from '../../domain/shared/types.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { settledStanding } from './settled-standing.js';

/** A provider's report that a message it accepted arrived (or was read), for the send, attempt and channel it was registered for. */
export type DeliveryConfirmation = {
  readonly challenge_id: string;
  readonly send: number;
  /** Unnamed when the provider sends one message per send whatever the attempts (Resend): see DeliveryReport. */
  readonly attempt?: number;
  readonly channel: Channel;
  readonly provider: string;
  readonly read: boolean;
};

/**
 * `DELIVERED`, `READ`: recorded; `IGNORED`: it says nothing new about the message the challenge
 * counts delivered (a repeat, a read receipt's arrival already recorded, an attempt or send
 * replaced since, an unknown challenge); `NOT_RECORDED`: it applies but could not be recorded
 * now (the attempt's own outcome never reached the log while it waited, or too much contention).
 */
export type ConfirmationOutcome = 'DELIVERED' | 'READ' | 'IGNORED' | 'NOT_RECORDED';

/**
 * Records that the message the challenge counts delivered arrived or was read, for the app
 * (GET /api/code/{id}: delivery.delivered_at, read_at) and the audit trail; closed challenges'
 * too. A confirmation that cannot apply is dropped quietly (debug): receipts repeat and cross
 * in the post by design. The one decision a receipt changes is in reportStanding (a failure of
 * another attempt at a confirmed send is dropped).
 */
export const makeRecordDeliveryConfirmation = (deps: Pick<Deps, 'handle' | 'load' | 'clock' | 'logger'>) => async (confirmation: DeliveryConfirmation): Promise<ConfirmationOutcome> => {
  const stream = challengeStream(confirmation.challenge_id);
  const { challenge_id: _id, ...fields } = confirmation;
  const log = { challenge_id: confirmation.challenge_id, ...fields };
  const notApplied = (outcome: 'IGNORED' | 'NOT_RECORDED', why: object): ConfirmationOutcome => {
    deps.logger[outcome === 'IGNORED' ? 'debug' : 'warn']('delivery confirmation not applied', { ...log, ...why, outcome });
    return outcome;
  };
  const { standing } = await settledStanding(deps, stream, (state) => confirmationStanding(state, confirmation));
  if (standing !== 'CURRENT') return notApplied(standing === 'IN_FLIGHT' ? 'NOT_RECORDED' : 'IGNORED', { standing });
  const recorded = await deps.handle(ChallengeAggregate, stream, () => ({ type: 'RecordDeliveryConfirmation', ...fields, at: now(deps) }) satisfies RecordDeliveryConfirmation);
  // Refused: a copy of it recorded meanwhile, or the append gave up on contention; a fresh read tells.
  if (recorded._tag === 'Left')
    return notApplied(confirmationStanding(await deps.load(ChallengeAggregate, stream), confirmation) === 'CURRENT' ? 'NOT_RECORDED' : 'IGNORED', { refused: recorded.left.code });
  deps.logger.debug('delivery confirmed by the provider', log);
  return confirmation.read ? 'READ' : 'DELIVERED';
};
