/**
 * Ports: the narrow types the application needs from the outside world. Adapters in
 * src/infrastructure are factories returning these; the composition root wires them.
 */
import type { AttemptCounts } from '../domain/enrollment/unknown-user.js';
import type { SealedSecret } from '../domain/shared/sealed.js';
import type { Channel, TotpParameters } from '../domain/shared/types.js';

// ---------------------------------------------------------------- time, ids, randomness
export type Clock = () => Date;
/** A new random UUID (v4). */
export type IdGenerator = () => string;
/** `length` decimal digits from a CSPRNG, leading zeros kept. */
export type RandomDigits = (length: number) => string;
/** A random token of URL-safe characters carrying at least `bytes` bytes of entropy. */
export type RandomToken = (bytes: number) => string;

// ---------------------------------------------------------------- event store
/** Revision of the last event the writer saw; 'no_stream' when it expects none; 'any' skips the check. */
export type ExpectedRevision = number | 'no_stream' | 'any';

export type EventMetadata = {
  readonly schema_version?: number;
  readonly request_id?: string;
  readonly trace_id?: string;
  readonly actor?: string;
  readonly [key: string]: unknown;
};

export type NewEvent = { readonly type: string; readonly data: unknown; readonly metadata?: EventMetadata };

export type RecordedEvent = {
  readonly id: string;
  readonly stream: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: number;
  /**
   * Position in the global log: at least 1, strictly increasing in commit order, not necessarily
   * consecutive. Within a stream, positions grow with revisions (pages of a stream past a
   * position rely on it: audit/stream-after.ts).
   */
  readonly position: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recorded_at: string;
};

export type AppendResult = {
  /** Revision of the last appended event (the next expected revision). */
  readonly revision: number;
  /** Global position of the last appended event. */
  readonly position: number;
};

/** Thrown by `append` when the stream is not at the expected revision. */
export class WrongExpectedRevision extends Error {
  override readonly name = 'WrongExpectedRevision';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

export type Subscription = { readonly close: () => Promise<void> };

export type ReadStreamOptions = {
  /** The first revision wanted, a non-negative integer (0: the whole stream). */
  readonly fromRevision?: number;
  /** At most this many events, a positive integer (default: all of them). */
  readonly limit?: number;
};

export type EventStore = {
  /** Appends atomically; rejects with WrongExpectedRevision on a concurrency conflict. */
  readonly append: (stream: string, events: readonly NewEvent[], expected: ExpectedRevision) => Promise<AppendResult>;
  /**
   * Events of one stream in revision order, from `fromRevision` (default 0) on, at most `limit`
   * of them; [] when the stream does not exist or has no event that recent.
   */
  readonly readStream: (stream: string, options?: ReadStreamOptions) => Promise<readonly RecordedEvent[]>;
  /** Up to `limit` events with position > `after`, in position order. */
  readonly readAll: (after: number, limit: number) => Promise<readonly RecordedEvent[]>;
  /**
   * Calls `handler` for every event with position > `after`, in order, first catching up,
   * then live. The handler's promise is awaited before the next event is delivered.
   */
  readonly subscribe: (after: number, handler: (event: RecordedEvent) => Promise<void>) => Subscription;
  /** Position of the last event in the log (0 when empty). */
  readonly headPosition: () => Promise<number>;
  readonly close: () => Promise<void>;
};

/**
 * A stream's folded state at one revision, so a long stream is read from there instead of from
 * its start. Derived data, never the record: the log alone is what auditors replay, and a
 * snapshot is used only when its `version` (the aggregate's state format) is the current one
 * and the log still holds, at `revision`, the event it was taken after (`event_id`).
 */
export type Snapshot = {
  readonly stream: string;
  readonly revision: number;
  /** Id of the stream's event at `revision`. */
  readonly event_id: string;
  readonly version: string;
  /** JSON-serialisable state. */
  readonly state: unknown;
  /** An integrity tag over everything above, set and checked by the service; stores keep it verbatim. */
  readonly seal?: string;
};

export type SnapshotStore = {
  /** The stored snapshot of `stream`, or undefined. */
  readonly load: (stream: string) => Promise<Snapshot | undefined>;
  /** Stores `snapshot` in place of the stream's previous one, whatever its revision. */
  readonly save: (snapshot: Snapshot) => Promise<void>;
};

// ---------------------------------------------------------------- audit
/**
 * Tamper evidence for the log: every event is hash-chained to the one before it, in position
 * order, and the chain is sealed now and then by an event carrying its value and a MAC under a
 * key derived from a master key (which lives in the environment, not next to the log).
 */
export type LogChain = {
  /** The chain's value before the first event. */
  readonly genesis: string;
  /** The chain's value after `event`, given its value before (hex). Covers every stored field. */
  readonly link: (previous: string, event: RecordedEvent) => string;
};

/** What a seal vouches for: `count` events of the log, the last at `through`, chain value `chain`. */
export type SealBody = { readonly through: number; readonly count: number; readonly chain: string };

export type SealSigner = {
  readonly sign: (body: SealBody) => { readonly key_id: string; readonly mac: string };
  /** Whether `mac` is the seal's, in constant time; undefined when key `keyId` is not configured. */
  readonly verify: (body: SealBody, keyId: string, mac: string) => boolean | undefined;
};

// ---------------------------------------------------------------- secrets and hashing
export type SecretVault = {
  /** Encrypts under a fresh data key; `context` is bound as associated data (e.g. a stream id). */
  readonly seal: (plaintext: string, context: string) => Promise<SealedSecret>;
  /** Decrypts; null when the data key was destroyed (crypto-shredding). */
  readonly open: (sealed: SealedSecret, context: string) => Promise<string | null>;
  /** Destroys a data key: every secret sealed under it becomes unreadable for good. */
  readonly destroy: (keyId: string) => Promise<void>;
};

/** Data keys counted by the id of the master key that wraps them. */
export type DataKeyCensus = Readonly<Record<string, number>>;

/** Moving the vault's data keys to the current master key, so older ones can be retired. */
export type KeyRotation = {
  readonly census: () => Promise<DataKeyCensus>;
  /**
   * Re-wraps under the current master key every data key another one wraps: how many left each,
   * and the ids of those that do not unwrap (their rows were altered: what they sealed is lost
   * already), which stay as they are. Refuses, before changing anything, when a data key is
   * wrapped under a master key that is not configured. A key destroyed meanwhile stays destroyed.
   */
  readonly rewrap: () => Promise<{ readonly rewrapped: DataKeyCensus; readonly unreadable: readonly string[] }>;
};

export type HashPurpose = 'code' | 'api-key' | 'recovery-code' | 'identifier' | 'destination' | 'snapshot';
/** Keyed hash (HMAC-SHA256, hex) under a key derived from the master key for `purpose`. */
export type KeyedHash = (purpose: HashPurpose, value: string) => string;
/** Constant-time equality of two strings (hex hashes or codes). */
export type SafeEqual = (a: string, b: string) => boolean;

export type PasswordHasher = {
  readonly hash: (password: string) => Promise<string>;
  readonly verify: (hash: string, password: string) => Promise<boolean>;
};

// ---------------------------------------------------------------- tokens
export type AccessToken = { readonly token: string; readonly jti: string; readonly expires_at: Date; readonly expires_in: number };
export type TokenClaims = { readonly sub: string; readonly jti: string; readonly exp: number };
export type TokenService = {
  readonly issue: (subject: string) => Promise<AccessToken>;
  /** null for any invalid token: bad signature or algorithm, expired, wrong audience/issuer. */
  readonly verify: (token: string) => Promise<TokenClaims | null>;
};
export type TokenDenylist = {
  readonly revoke: (jti: string, until: Date) => Promise<void>;
  readonly isRevoked: (jti: string) => Promise<boolean>;
};

// ---------------------------------------------------------------- OTP primitives
export type Totp = {
  /** A new base32 seed of at least 20 random bytes. */
  readonly generateSecret: () => string;
  /** An imported seed in canonical base32, or null when it is not base32 of at least 20 bytes. */
  readonly parseSecret: (input: string) => string | null;
  /**
   * The time step whose code equals `code` within +-window steps of `now`, or null.
   * Comparisons are constant-time.
   */
  readonly matchStep: (secret: string, code: string, params: TotpParameters & { window: number }, now: Date) => number | null;
  readonly generate: (secret: string, params: TotpParameters, now: Date) => string;
  readonly uri: (input: { secret: string; issuer: string; account: string } & TotpParameters) => string;
};

export type QrCodeRenderer = {
  readonly dataUrl: (text: string) => Promise<string>;
  readonly png: (text: string) => Promise<Buffer>;
};

// ---------------------------------------------------------------- abuse controls
export type RateDecision = { readonly allowed: boolean; readonly remaining: number; readonly retry_after_seconds: number };
/**
 * Counts one hit on `key` in a sliding window and says whether it is within `limit`. With
 * `peek`, says whether a hit would be allowed without counting it (to check several caps
 * before spending any).
 */
export type RateLimiter = (key: string, limit: number, windowSeconds: number, options?: { readonly peek?: boolean }) => Promise<RateDecision>;
/** Claims `key` once: true for the first caller, false for every later one until the TTL passes. */
export type ReplayGuard = (key: string, ttlSeconds: number) => Promise<boolean>;

/** A name's counts as the decoy store last had them, who wrote them, and what to write against (opaque). */
export type DecoyRead = { readonly counts: AttemptCounts | null; readonly writer: string | null; readonly version: unknown };
/** Whether a write was kept (false: the name's counts moved since they were read), and how many of the app's names it pushed out. */
export type DecoyWrite = { readonly written: boolean; readonly forgot: number };
/**
 * The attempt counts the unknown-user decoy keeps per username an app does not know
 * (`challenges/unknown-user-failure.ts`), bounded per app: writing a name past the adapter's
 * capacity forgets the app's least recently written one. A write is a compare-and-set against
 * what was read, so concurrent failures of one name are each counted.
 */
export type DecoyStore = {
  readonly read: (appId: string, id: string) => Promise<DecoyRead>;
  /**
   * Keeps `counts`, by `writer` (one id per verification, so one whose write was kept though its
   * answer was lost finds it), if the name's are still those `read` gave.
   */
  readonly write: (appId: string, id: string, read: DecoyRead, counts: AttemptCounts, writer: string) => Promise<DecoyWrite>;
};

// ---------------------------------------------------------------- delivery
export type OutgoingMessage = {
  readonly channel: Channel;
  readonly to: string;
  readonly subject?: string;
  readonly body: string;
  readonly html?: string;
  readonly challenge_id: string;
  /** Which send of the challenge (1, then one per resend) and which try of it: what a provider's later status report names. */
  readonly send: number;
  readonly attempt: number;
  /**
   * The same for every attempt at one send of the challenge on one channel, and different for
   * any other: a provider that deduplicates by key (Resend's Idempotency-Key) sends an email
   * whose acceptance never reached the worker (a timeout, a crash) only once.
   */
  readonly idempotency_key: string;
  /** For template-based channels (WhatsApp content templates) that take the code as a variable. */
  readonly code?: string;
  readonly ttl_minutes?: number;
};
export type MessageSender = (message: OutgoingMessage) => Promise<void>;

/**
 * The provider name of a channel nothing delivers (no provider configured, and no outbox in a
 * production setup): sends on it are refused before a challenge is opened.
 */
export const NO_PROVIDER = 'none';

/**
 * Thrown by a MessageSender when a provider refuses or fails. Permanent failures (a bad
 * number, a rejected sender) are not retried; transient ones (5xx, 429, timeouts) are.
 * The message must never contain the code, the full destination or a provider secret.
 */
export class DeliveryFailure extends Error {
  override readonly name = 'DeliveryFailure';
  constructor(
    message: string,
    readonly provider: string,
    readonly permanent: boolean,
    /** Seconds the provider asked us to wait (429 Retry-After), when it said. */
    readonly retryAfterSeconds?: number,
    /** The provider refused for its rate (429 or its own code for it): retried past the send's attempts, until the code expires. */
    readonly throttled: boolean = false,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- observability
export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;
/** Runs `fn` inside a span named `name`; the span ends when the promise settles. */
export type Tracer = <T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>) => Promise<T>;

export type LogFields = Readonly<Record<string, unknown>>;
export type Logger = {
  readonly debug: (message: string, fields?: LogFields) => void;
  readonly info: (message: string, fields?: LogFields) => void;
  readonly warn: (message: string, fields?: LogFields) => void;
  readonly error: (message: string, fields?: LogFields) => void;
};

// ---------------------------------------------------------------- health
/** Throws when the dependency is down; may return details worth showing (e.g. projection lag). */
export type HealthCheck = {
  readonly name: string;
  readonly check: () => Promise<void | Readonly<Record<string, unknown>>>;
  /** A dependency the service keeps answering without (Redis: it falls back): its failure degrades /health but not readiness. */
  readonly optional?: boolean;
};

// ---------------------------------------------------------------- destinations
export type ParsedDestination = {
  /** E.164 for phones, lower-cased address for emails. */
  readonly normalized: string;
  /** Country calling code for phones ("34"), null for emails. */
  readonly country_calling_code: string | null;
  /** Masked form safe to show and log. */
  readonly hint: string;
};
/** Parses and normalises a destination for a channel; null when it is not a valid one. */
export type DestinationParser = (channel: Channel, raw: string) => ParsedDestination | null;
