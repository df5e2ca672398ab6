import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { TokenDenylist } from '../../src/application/ports.js';

/** `now` and `advance`: a fake clock for in-process adapters, the real one for stores with their own clock. */
export type TokenDenylistHarness = {
  readonly subject: TokenDenylist;
  readonly now: () => Date;
  readonly advance: (ms: number) => Promise<void>;
  readonly cleanup: () => Promise<void>;
};

export type TokenDenylistTraits = {
  /**
   * Whether one token can be revoked twice with different expiries. Not in the log-backed list:
   * its revocations are LoggedOut events, whose expiry is always the token's own.
   */
  readonly revokedTwiceWithOtherExpiries?: boolean;
};

export const tokenDenylistContract = (name: string, make: () => Promise<TokenDenylistHarness>, traits: TokenDenylistTraits = {}): void =>
  describe(`TokenDenylist contract: ${name}`, () => {
    let denylist: TokenDenylist;
    let now: () => Date;
    let advance: (ms: number) => Promise<void>;
    let cleanup: () => Promise<void>;
    let jti: (label: string) => string;
    const inMs = (ms: number) => new Date(now().getTime() + ms);
    beforeEach(async () => {
      ({ subject: denylist, now, advance, cleanup } = await make());
      const run = randomUUID();
      jti = (label) => `${run}-${label}`;
    });
    afterEach(async () => cleanup());

    it('reports a revoked token, and no other', async () => {
      await denylist.revoke(jti('a'), inMs(60_000));
      expect(await denylist.isRevoked(jti('a'))).toBe(true);
      expect(await denylist.isRevoked(jti('b'))).toBe(false);
    });

    it('forgets a revocation once the token would have expired anyway', async () => {
      await denylist.revoke(jti('short'), inMs(300));
      expect(await denylist.isRevoked(jti('short'))).toBe(true);
      await advance(450);
      expect(await denylist.isRevoked(jti('short'))).toBe(false);
    });

    if (traits.revokedTwiceWithOtherExpiries !== false)
      it('keeps the later expiry when a token is revoked twice', async () => {
        await denylist.revoke(jti('twice'), inMs(60_000));
        await denylist.revoke(jti('twice'), inMs(300));
        await advance(450);
        expect(await denylist.isRevoked(jti('twice'))).toBe(true);
      });

    it('revokes independently: one token revoked leaves another with the same prefix alone', async () => {
      await denylist.revoke(jti('x'), inMs(60_000));
      expect(await denylist.isRevoked(`${jti('x')}-other`)).toBe(false);
      expect(await denylist.isRevoked(jti('x').slice(0, -1))).toBe(false);
    });
  });
