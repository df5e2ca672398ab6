import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { accountStream, LOGIN_THROTTLE } from '../../domain/account/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { AccountAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { accountIdFor, clientTagFor } from '../ids.js';
import { emailKey, findByEmail } from './email.js';
import { normalizePassword, passwordTriesRefused, verifyPassword, wantsRehash } from './password.js';

export type LogInInput = { readonly username: string; readonly password: string; readonly client_ip: string };
export type LogInResult = { readonly access_token: string; readonly token_type: 'bearer'; readonly expires_in: number };

const invalid = (): Either<Rejection, never> => left(reject('INVALID_CREDENTIALS', 'Invalid username or password'));

export const makeLogIn = (deps: Pick<Deps, 'handle' | 'readModels' | 'keyedHash' | 'passwords' | 'tokens' | 'rateLimit' | 'limits' | 'clock' | 'load'>) => {
  /** A fixed argon2id hash checked for unknown users, so they take as long as known ones: made by this service's hasher, at its cost. */
  let decoyHash: Promise<string> | undefined;
  return async (input: LogInInput): Promise<Either<Rejection, LogInResult>> => {
    const tooMany = await passwordTriesRefused(deps, input.client_ip);
    if (tooMany) return left(tooMany);

    const byEmail = input.username.includes('@') ? await findByEmail(deps.readModels, input.username) : undefined;
    const accountId = typeof byEmail?.account_id === 'string' ? byEmail.account_id : accountIdFor(deps.keyedHash, input.username);
    const state = await deps.load(AccountAggregate, accountStream(accountId));

    const client = clientTagFor(deps.keyedHash, input.client_ip);
    if (state.status === 'NONE') {
      decoyHash ??= deps.passwords.hash('decoy password that never matches');
      await verifyPassword(deps.passwords, await decoyHash, input.password);
      // Unknown users are throttled like known ones, so the 429 reveals nothing either: per
      // client and for everyone (no client of an unknown user ever signed in), and, as a known
      // account records no failure for a refused attempt, a refused attempt counts for neither.
      const { perClient, perAccount, windowSeconds } = LOGIN_THROTTLE;
      // Counted, not peeked then counted: concurrent attempts all passed a peek before any was
      // counted (across processes on Redis), so a burst got more 401s for an unknown name than
      // a known account's stream allows, which told them apart. A refused attempt gives back
      // the hit the other limit counted.
      // Keyed by the name as a known account's lookup reads it: every way of typing one email
      // (its accents composed or not) reaches one known account, so it reaches one count here.
      const unknown = byEmail === undefined && input.username.includes('@') ? accountIdFor(deps.keyedHash, emailKey(input.username)) : accountId;
      const limits = [[`login-unknown:${unknown}:${client}`, perClient], [`login-unknown:${unknown}`, perAccount]] as const;
      const decisions = await Promise.all(limits.map(([key, limit]) => deps.rateLimit(key, limit, windowSeconds)));
      const refused = decisions.filter((decision) => !decision.allowed);
      if (refused.length > 0) {
        // A release that fails (Redis failing) leaves the hit counted: stricter, never looser.
        await Promise.all(decisions.map((decision) => decision.release?.().catch(() => undefined)));
        return left(reject('RATE_LIMITED', 'Too many failed logins; try again later', { retryAfterSeconds: Math.max(...refused.map((decision) => decision.retry_after_seconds)) }));
      }
      return invalid();
    }

    const match = await verifyPassword(deps.passwords, state.password_hash, input.password);
    const passwordOk = match !== null;
    // The right password against a hash made at other argon2 parameters than the service's now,
    // or from the text as typed: hashed anew (normalized), here rather than in the decision
    // below, which runs again on every conflict. The decider records it only while the hash it
    // replaces is still the account's; the password version stays, so no token ends.
    const rehash = wantsRehash(deps.passwords, state.password_hash, match)
      ? { of: state.password_hash, password_hash: await deps.passwords.hash(normalizePassword(input.password)) }
      : undefined;
    const outcome = await deps.handle(AccountAggregate, accountStream(accountId), async (current) => ({
      type: 'RecordLogin' as const,
      // Checked again when the password changed meanwhile (a change racing this sign-in): the
      // old password signed in was recorded a success, its client made known, its failures cleared.
      password_ok:
        current.status !== 'REGISTERED' || current.password_hash === state.password_hash
          ? passwordOk
          : (await verifyPassword(deps.passwords, current.password_hash, input.password)) !== null,
      client,
      at: now(deps),
      ...(rehash ? { rehash } : {}),
    }));
    if (outcome._tag === 'Left') return outcome;
    if (outcome.right.events.some((e) => e.type === 'LoginFailed')) return invalid();
    const signedIn = outcome.right.state;
    // The version the password was checked under: the state the success was recorded on.
    const token = await deps.tokens.issue(accountId, signedIn.status === 'REGISTERED' ? signedIn.password_version : 0);
    return right({ access_token: token.token, token_type: 'bearer', expires_in: token.expires_in });
  };
};
