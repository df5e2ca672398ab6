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
