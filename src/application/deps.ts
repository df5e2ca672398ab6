import type { Channel } from '../domain/shared/types.js';
import type { HandleCommand } from './handle-command.js';
import type {
  Clock,
  DestinationParser,
  EventStore,
  IdGenerator,
  KeyedHash,
  Logger,
  MessageSender,
  PasswordHasher,
  QrCodeRenderer,
  RandomDigits,
  RandomToken,
  RateLimiter,
  ReplayGuard,
  SafeEqual,
  SecretVault,
  TokenDenylist,
  TokenService,
  Totp,
} from './ports.js';
import type { ReadModels } from './read-models.js';

/** Everything use cases may depend on; each handler asks for the few it needs with Pick. */
export type Deps = {
  readonly handle: HandleCommand;
  readonly store: EventStore;
  readonly readModels: ReadModels;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly randomDigits: RandomDigits;
  readonly randomToken: RandomToken;
  readonly keyedHash: KeyedHash;
  readonly safeEqual: SafeEqual;
  readonly vault: SecretVault;
  readonly passwords: PasswordHasher;
  readonly tokens: TokenService;
  readonly denylist: TokenDenylist;
  readonly totp: Totp;
  readonly qr: QrCodeRenderer;
  readonly rateLimit: RateLimiter;
  readonly replayGuard: ReplayGuard;
  readonly send: MessageSender;
  /** Which provider `send` uses for a channel, recorded with delivery outcomes. */
  readonly providerName: (channel: Channel) => string;
  readonly parseDestination: DestinationParser;
  readonly logger: Logger;
  readonly limits: Limits;
};

/** Service-wide abuse limits (per-app ones live in the app policy). */
export type Limits = {
  readonly loginAttemptsPerIpPerMinute: number;
  readonly sendsPerIpPerHour: number;
  readonly totpLockoutSeconds: number;
};

export const defaultLimits: Limits = {
  loginAttemptsPerIpPerMinute: 30,
  sendsPerIpPerHour: 60,
  totpLockoutSeconds: 300,
};

export const now = (deps: Pick<Deps, 'clock'>): string => deps.clock().toISOString();
