import type { SealedSecret } from '../../domain/shared/sealed.js';

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
   * `erased`: whether the store then erased what it kept of the old wrappings as far as it can
   * (false: it could not, e.g. a database user that does not own the table).
   */
  readonly rewrap: () => Promise<{ readonly rewrapped: DataKeyCensus; readonly unreadable: readonly string[]; readonly erased: boolean }>;
};

export type HashPurpose = 'code' | 'api-key' | 'recovery-code' | 'identifier' | 'destination' | 'snapshot';
/** Keyed hash (HMAC-SHA256, hex) under a key derived from the master key for `purpose`. */
export type KeyedHash = (purpose: HashPurpose, value: string) => string;
/** Constant-time equality of two strings (hex hashes or codes). */
export type SafeEqual = (a: string, b: string) => boolean;

export type PasswordHasher = {
  readonly hash: (password: string) => Promise<string>;
  readonly verify: (hash: string, password: string) => Promise<boolean>;
  /**
   * Whether `hash` was made otherwise than `hash` makes one now (another algorithm or type, lower
   * or other cost parameters), or cannot be read: a sign-in that verified it hashes the password
   * anew. Reads the hash's encoded parameters only: no password, no hashing.
   */
  readonly needsRehash: (hash: string) => boolean;
};
