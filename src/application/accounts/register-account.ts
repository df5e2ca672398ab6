import { left, map, type Either } from 'fp-ts/lib/Either.js';
import { accountStream } from '../../domain/account/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { AccountAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import { awaitReadModels } from '../read-your-writes.js';
import { accountIdFor } from '../ids.js';
import { emailKey, findByEmail } from './email.js';
import { normalizePassword } from './password.js';

/** Longer than a registration's password hash, append and wait for the index (5 s at most), under load. */
const EMAIL_CLAIM_SECONDS = 30;

export type RegisterAccountInput = { readonly email: string; readonly username: string; readonly password: string; readonly client_ip: string };
export type AccountView = { readonly id: string; readonly email: string; readonly username: string };

export const makeRegisterAccount =
  (deps: Pick<Deps, 'handle' | 'load' | 'readModels' | 'logger' | 'keyedHash' | 'passwords' | 'clock' | 'rateLimit' | 'limits'>) =>
  async (input: RegisterAccountInput): Promise<Either<Rejection, AccountView>> => {
    // Before anything costly: each registration hashes a password, and anyone may call this.
    const perIp = await deps.rateLimit(`register-ip:${input.client_ip}`, deps.limits.registrationsPerIpPerHour, 3600);
    if (!perIp.allowed)
      return left(reject('RATE_LIMITED', 'Too many registrations from this address; try again later', { retryAfterSeconds: perIp.retry_after_seconds }));
    const email = emailKey(input.email);
    const taken = () => left(reject('ALREADY_EXISTS', 'Username or email already registered'));
    // The username is unique by construction (it names the stream); the email through its index,
    // under every form an earlier registration may have stored it in.
    if (await findByEmail(deps.readModels, input.email)) return taken();
    // Sign-in looks an address up as an email first: an email that is an older account's
    // username (one with "@", allowed before operator usernames refused it) would take over
    // that username's sign-in.
    if ((await deps.load(AccountAggregate, accountStream(accountIdFor(deps.keyedHash, email)))).status !== 'NONE') return taken();
    const accountId = accountIdFor(deps.keyedHash, input.username);
    // A taken username answers before the email is claimed below, so the usual retry (same
    // email, another username) is not refused by its own first attempt.
    if ((await deps.load(AccountAggregate, accountStream(accountId))).status !== 'NONE') return taken();
    // The email index is a projection, updated only after the append: two registrations of one
    // email at the same instant would both pass the check above. The first to take the email's
    // slot in the rate limiter goes on; the others answer 409 CONFLICT until it has expired, by
    // when the winner's email is in the index (ALREADY_EXISTS) or its registration failed (free
    // again). The limiter, not the replay guard: when Redis is unreachable the limiter counts per
    // process, while the guard lets everything through. Keyed by a hash: no address in Redis.
    const slot = await deps.rateLimit(`register-email:${deps.keyedHash('identifier', `email\u0000${email}`)}`, 1, EMAIL_CLAIM_SECONDS);
    if (!slot.allowed)
      return left(reject('CONFLICT', 'A registration of this email is in progress; try again shortly', { retryAfterSeconds: slot.retry_after_seconds }));
    const passwordHash = await deps.passwords.hash(normalizePassword(input.password));
    const outcome = await deps.handle(AccountAggregate, accountStream(accountId), () => ({
      type: 'RegisterAccount' as const,
      account_id: accountId,
      username: input.username,
      email,
      password_hash: passwordHash,
      at: now(deps),
    }));
    if (outcome._tag === 'Right') await awaitReadModels(deps, outcome.right.position);
    return map(() => ({ id: accountId, email, username: input.username }))(outcome);
  };
