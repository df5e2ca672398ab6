import type { Challenge } from '../../domain/challenge/index.js';
import type { AppPolicy } from '../../domain/client-app/policy.js';
import type { Channel } from '../../domain/shared/types.js';
import type { Deps } from '../deps.js';
import { NO_PROVIDER } from '../ports.js';

const PHONE_CHANNELS: readonly Channel[] = ['SMS', 'WHATSAPP'];

/**
 * The channel a send that failed for good on `channel` moves to, if any: the app's fallback
 * phone channel, from the challenge's own channel only (a fallback never falls back again),
 * and only to a channel the app allows and this deployment delivers (NO_PROVIDER would only
 * fail again).
 */
export const fallbackChannel = (
  deps: Pick<Deps, 'delivery'>,
  policy: Pick<AppPolicy, 'fallback_channel' | 'channels'>,
  challenge: Pick<Challenge, 'channel'>,
  channel: Channel,
): Channel | undefined => {
  const fallback = policy.fallback_channel;
  if (!fallback || fallback === channel || channel !== challenge.channel || !PHONE_CHANNELS.includes(channel) || !policy.channels.includes(fallback)) return undefined;
  return deps.delivery(fallback).provider === NO_PROVIDER ? undefined : fallback;
};
