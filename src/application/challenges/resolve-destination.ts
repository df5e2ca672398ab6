import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { enrollmentStream } from '../../domain/enrollment/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { Channel } from '../../domain/shared/types.js';
import type { ActiveApp } from '../apps/app-view.js';
import { EnrollmentAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import { enrollmentIdFor } from '../ids.js';
import type { ParsedDestination } from '../ports.js';
import { makeRecordRefusal } from './record-refusal.js';

/** The request field the destination came in: `to` on a send, `destination` on an enrollment. */
export type DestinationField = 'to' | 'destination';

const invalid = (field: DestinationField, message: string): Either<Rejection, never> =>
  left(reject('INVALID_DESTINATION', message, { details: [{ field, message }] }));

/**
 * Where a code goes: the given `to`, else the destination of the user's active enrollment in
 * that channel. Parsed, normalised and checked against the app's policy before any send.
 */
export const makeResolveDestination = (
  deps: Pick<Deps, 'vault' | 'keyedHash' | 'parseDestination' | 'clock' | 'store' | 'eventMetadata' | 'load' | 'rateLimit' | 'undeliverable'>,
) => {
  const recordRefusal = makeRecordRefusal(deps);
  return async (
    app: ActiveApp,
    username: string,
    channel: Channel,
    to: string | undefined,
    field: DestinationField = 'to',
  ): Promise<Either<Rejection, ParsedDestination>> => {
    if (!app.policy.channels.includes(channel)) {
      await recordRefusal(app.app_id, { reason: 'CHANNEL_NOT_ALLOWED' });
      return left(reject('CHANNEL_NOT_ALLOWED', `The ${channel} channel is not enabled for this app`));
    }
    // The deployment's setting, not the caller's doing: not an abuse signal, so not recorded.
    if (deps.undeliverable(channel))
      return left(reject('CHANNEL_NOT_ALLOWED', `No provider delivers the ${channel} channel in this deployment`));
    let raw = to;
    if (raw === undefined) {
      const enrollmentId = enrollmentIdFor(deps.keyedHash, app.app_id, username, channel);
      const stream = enrollmentStream(enrollmentId);
      const state = await deps.load(EnrollmentAggregate, stream);
      if (state.kind === 'FACTOR' && state.status === 'ACTIVE' && state.destination)
        raw = (await deps.vault.open(state.destination, stream)) ?? undefined;
      if (raw === undefined) return invalid(field, `${field} is required: the user has no active ${channel} enrollment`);
    }
    const parsed = deps.parseDestination(channel, raw);
    if ('refused' in parsed) return invalid(field, parsed.refused);
    const allowed = app.policy.allowed_countries;
    if (parsed.country_calling_code !== null && allowed !== null && !allowed.includes(parsed.country_calling_code)) {
      await recordRefusal(app.app_id, { reason: 'COUNTRY_NOT_ALLOWED', to_hint: parsed.hint });
      return left(reject('COUNTRY_NOT_ALLOWED', 'Codes cannot be sent to this country'));
    }
    return right(parsed);
  };
};
