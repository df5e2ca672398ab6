import type { TotpParameters } from '../../domain/shared/types.js';

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
