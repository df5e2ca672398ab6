import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import type { Deps } from '../deps.js';
import type { ParsedDestination } from '../ports.js';

/** Counts a send against the per-IP and per-recipient caps, before any provider is called. */
export const makeCheckSendCaps =
  (deps: Pick<Deps, 'rateLimit' | 'limits' | 'keyedHash'>) =>
  async (app: ActiveApp, clientIp: string, to: ParsedDestination): Promise<Either<Rejection, void>> => {
    const limited = (retryAfter: number) =>
      left(reject('RATE_LIMITED', 'Too many codes sent; try again later', { retryAfterSeconds: retryAfter }));
    const perIp = await deps.rateLimit(`send-ip:${clientIp}`, deps.limits.sendsPerIpPerHour, 3600);
    if (!perIp.allowed) return limited(perIp.retry_after_seconds);
    const recipient = deps.keyedHash('destination', to.normalized);
    const perRecipient = await deps.rateLimit(`send-to:${app.app_id}:${recipient}`, app.policy.max_sends_per_recipient_per_hour, 3600);
    return perRecipient.allowed ? right(undefined) : limited(perRecipient.retry_after_seconds);
  };
