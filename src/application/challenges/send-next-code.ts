import type { Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../../domain/shared/rejection.js';
import type { ActiveApp } from '../apps/app-view.js';
import type { ParsedDestination } from '../ports.js';
import { once } from './give-back.js';
import { claimNextCode } from './resend-cooldown.js';
import { makeSendWithinCaps } from './send-caps.js';

export type NextCode<T> = {
  /** Who the code is for (the keyed recipient on a send, the factor on a registration), and the last code the caller read for them. */
  readonly recipient: string;
  readonly after: string | undefined;
  readonly clientIp: string | undefined;
  readonly to: ParsedDestination;
  /** Puts the code on its way: Right once it is in the log. */
  readonly send: () => Promise<Either<Rejection, T>>;
  /** After `send` threw: whether its code is in the log anyway (an append that landed though its answer was lost). */
  readonly wentAnyway: () => Promise<boolean>;
};

/**
 * A recipient's next code, within the resend cooldown's slot (`claimNextCode`) and the send caps
 * (`makeSendWithinCaps`): the caps are checked, then the slot taken, then the caps spent, then
 * the code sent; the slot and the caps' hits are kept only if a code went. `wentAnyway` is asked
 * at most once.
 */
export const makeSendNextCode = (deps: Parameters<typeof makeSendWithinCaps>[0]) => {
  const sendWithinCaps = makeSendWithinCaps(deps);
  return <T>(app: ActiveApp, next: NextCode<T>): Promise<Either<Rejection, T>> => {
    const wentAnyway = once(next.wentAnyway);
    return claimNextCode(deps, app, next.recipient, next.after, (claim) => sendWithinCaps(app, next.clientIp, next.to, next.send, claim, wentAnyway), wentAnyway);
  };
};
