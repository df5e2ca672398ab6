import type { Redis } from 'ioredis';
import type { TokenDenylist } from '../../application/ports.js';

/**
 * One key per revoked jti, expiring when the token would have expired anyway. Revoking twice
 * keeps the later expiry (SET NX, then PEXPIREAT GT, in one transaction; Redis >= 7).
 */
export const redisTokenDenylist = (redis: Redis, options: { readonly prefix: string }): TokenDenylist => {
  const keyOf = (jti: string): string => `${options.prefix}deny:${jti}`;
  return {
    revoke: async (jti, until) => {
      const at = until.getTime();
      if (!Number.isFinite(at)) throw new RangeError('until must be a valid date');
      const key = keyOf(jti);
      const replies = await redis.multi().set(key, '1', 'PXAT', at, 'NX').pexpireat(key, at, 'GT').exec();
      if (replies === null) throw new Error('Redis denylist: transaction aborted');
      const failed = replies.find(([error]) => error !== null);
      if (failed) throw failed[0] as Error;
    },
    isRevoked: async (jti) => (await redis.exists(keyOf(jti))) === 1,
  };
};
