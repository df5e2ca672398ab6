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
 * `DELIVERED`, `READ`: recorded; `IGNORED`: it says nothing new about the current send (a
 * repeat, a read receipt's arrival already recorded, a send or channel replaced since, a send
 * the provider reported undelivered, an unknown challenge); `NOT_RECORDED`: it applies but could
 * not be recorded now (too much contention).
 */
export type ConfirmationOutcome = 'DELIVERED' | 'READ' | 'IGNORED' | 'NOT_RECORDED';

/**
 * Records that a message of the current send arrived or was read, for the app
 * (GET /api/code/{id}: delivery.delivered_at, read_at) and the audit trail; closed challenges'
 * too. A receipt is also proof that the provider took the message (decideConfirmation). One
 * that cannot apply is dropped quietly (debug): receipts repeat and cross in the post by design.
 * One that overtakes the outcome of its own attempt waits for it a little, so the log records
 * the worker's acceptance first.
 */
export const makeRecordDeliveryConfirmation = (deps: Pick<Deps, 'handle' | 'load' | 'clock' | 'logger'>) => async (confirmation: DeliveryConfirmation): Promise<ConfirmationOutcome> => {
  const stream = challengeStream(confirmation.challenge_id);
  const { challenge_id: _id, ...fields } = confirmation;
  const log = { challenge_id: confirmation.challenge_id, ...fields };
  const notApplied = (outcome: 'IGNORED' | 'NOT_RECORDED', why: object): ConfirmationOutcome => {
    deps.logger[outcome === 'IGNORED' ? 'debug' : 'warn']('delivery confirmation not applied', { ...log, ...why, outcome });
    return outcome;
  };
  // Still in flight after the wait: the worker's outcome never came (it crashed); the receipt is proof enough.
  const applies = (standing: string) => standing === 'CURRENT' || standing === 'IN_FLIGHT';
  const { standing } = await settledStanding(deps, stream, (state) => confirmationStanding(state, confirmation));
  if (!applies(standing)) return notApplied('IGNORED', { standing });
  const recorded = await deps.handle(ChallengeAggregate, stream, () => ({ type: 'RecordDeliveryConfirmation', ...fields, at: now(deps) }) satisfies RecordDeliveryConfirmation);
  // Refused: a copy of it recorded meanwhile, or the append gave up on contention; a fresh read tells.
  if (recorded._tag === 'Left')
    return notApplied(applies(confirmationStanding(await deps.load(ChallengeAggregate, stream), confirmation)) ? 'NOT_RECORDED' : 'IGNORED', { refused: recorded.left.code });
  deps.logger.debug('delivery confirmed by the provider', log);
  return confirmation.read ? 'READ' : 'DELIVERED';
};
