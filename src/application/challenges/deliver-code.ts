import { challengeStream } from '../../domain/challenge/index.js';
import type { Channel } from '../../domain/shared/types.js';
import { ChallengeAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { renderCodeMessage } from './messages.js';

export type Delivery = {
  readonly challenge_id: string;
  readonly channel: Channel;
  readonly to: string;
  readonly code: string;
  readonly appName: string;
  readonly ttlSeconds: number;
};

/**
 * Sends the code and records the outcome on the challenge. A failed send is a fact on the
 * challenge (delivery FAILED), not an error of the request that asked for it.
 */
export const makeDeliverCode = (deps: Pick<Deps, 'send' | 'providerName' | 'handle' | 'logger' | 'clock'>) => async (d: Delivery): Promise<void> => {
  const message = renderCodeMessage({ channel: d.channel, appName: d.appName, code: d.code, ttlSeconds: d.ttlSeconds });
  let outcome: { ok: true } | { ok: false; reason: string; permanent: boolean };
  try {
    await deps.send({ channel: d.channel, to: d.to, challenge_id: d.challenge_id, ...message });
    outcome = { ok: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'unknown error';
    deps.logger.warn('delivery failed', { challenge_id: d.challenge_id, channel: d.channel, reason });
    outcome = { ok: false, reason, permanent: false };
  }
  await deps.handle(ChallengeAggregate, challengeStream(d.challenge_id), () => ({
    type: 'RecordDelivery' as const,
    provider: deps.providerName(d.channel),
    outcome,
    at: now(deps),
  }));
};
