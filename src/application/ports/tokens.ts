export type AccessToken = { readonly token: string; readonly jti: string; readonly expires_at: Date; readonly expires_in: number };
/** `password_version`: the account's password version the token was issued under (0 when it names none). */
export type TokenClaims = { readonly sub: string; readonly jti: string; readonly exp: number; readonly password_version: number };
export type TokenService = {
  /** A token for `subject`, naming the account's current `passwordVersion` (0 when left out). */
  readonly issue: (subject: string, passwordVersion?: number) => Promise<AccessToken>;
  /** null for any invalid token: bad signature or algorithm, expired, wrong audience/issuer. */
  readonly verify: (token: string) => Promise<TokenClaims | null>;
};
export type TokenDenylist = {
  readonly revoke: (jti: string, until: Date) => Promise<void>;
  readonly isRevoked: (jti: string) => Promise<boolean>;
};
