import type { Clock, TokenDenylist } from '../../application/ports.js';

export type InMemoryTokenDenylist = TokenDenylist & {
  /** Entries currently held (expired ones are pruned); exposed to test that memory stays bounded. */
  readonly size: () => number;
};

/** Single-process denylist: revocations are lost on restart and not shared between instances. */
export const createInMemoryTokenDenylist = (clock: Clock): InMemoryTokenDenylist => {
  const until = new Map<string, number>();
  const prune = (now: number): void => {
    for (const [jti, expiry] of until) if (expiry <= now) until.delete(jti);
  };
  return {
    revoke: async (jti, expiry) => {
      const now = clock().getTime();
      // Revocations are rare, so a full sweep here is cheap and keeps the map bounded.
      prune(now);
      const ms = expiry.getTime();
      if (ms > now) until.set(jti, Math.max(ms, until.get(jti) ?? 0));
    },
    isRevoked: async (jti) => {
      const expiry = until.get(jti);
      if (expiry === undefined) return false;
      if (expiry > clock().getTime()) return true;
      until.delete(jti);
      return false;
    },
    size: () => until.size,
  };
};
