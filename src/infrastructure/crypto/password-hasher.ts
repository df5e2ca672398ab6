import { argon2id, hash, needsRehash, verify } from 'argon2';
import type { PasswordHasher } from '../../application/ports.js';
import { MAX_MEMORY_COST_KIB, MAX_TIME_COST, MIN_MEMORY_COST_KIB, MIN_TIME_COST } from './argon2-parameters.js';

export type Argon2Options = { readonly memoryCostKiB?: number; readonly timeCost?: number };

const B64 = /^[A-Za-z0-9+/]+$/;

/**
 * Whether `encoded` is a whole argon2id PHC string, whose parameters `needsRehash` may be trusted
 * on: `$argon2id$v=19$<m, t and p as integers, in any order>$<salt>$<hash>`. Anything else
 * (another algorithm, argon2i or argon2d, a truncated or altered string) needs a new hash.
 */
const isArgon2idPhc = (encoded: string): boolean => {
  const [empty, type, version, params, salt, digest, ...rest] = encoded.split('$');
  if (empty !== '' || type !== 'argon2id' || version !== 'v=19' || rest.length > 0) return false;
  if (salt === undefined || digest === undefined || !B64.test(salt) || !B64.test(digest)) return false;
  const keys = (params ?? '').split(',').map((pair) => /^([mtp])=\d{1,10}$/.exec(pair)?.[1]);
  return keys.length === 3 && new Set(keys).size === 3 && !keys.includes(undefined);
};

export const createArgon2PasswordHasher = (options: Argon2Options = {}): PasswordHasher => {
  const memoryCost = options.memoryCostKiB ?? MIN_MEMORY_COST_KIB;
  const timeCost = options.timeCost ?? MIN_TIME_COST;
  if (!Number.isSafeInteger(memoryCost) || memoryCost < MIN_MEMORY_COST_KIB || memoryCost > MAX_MEMORY_COST_KIB)
    throw new RangeError(`argon2 memoryCost must be an integer from ${MIN_MEMORY_COST_KIB} to ${MAX_MEMORY_COST_KIB} KiB`);
  if (!Number.isSafeInteger(timeCost) || timeCost < MIN_TIME_COST || timeCost > MAX_TIME_COST)
    throw new RangeError(`argon2 timeCost must be an integer from ${MIN_TIME_COST} to ${MAX_TIME_COST}`);
  const parameters = { memoryCost, timeCost, parallelism: 1, version: 0x13 } as const;
  return {
    hash: (password) => hash(password, { type: argon2id, memoryCost, timeCost, parallelism: 1 }),
    verify: async (encoded, password) => {
      try {
        return await verify(encoded, password);
      } catch {
        // argon2 throws on an unparsable hash; for callers that is simply "does not match".
        return false;
      }
    },
    // The library's check compares version, m, t and p only (not the type), and throws on some
    // of what it cannot parse: the whole string is checked first.
    needsRehash: (encoded) => {
      if (!isArgon2idPhc(encoded)) return true;
      try {
        return needsRehash(encoded, parameters);
      } catch {
        return true;
      }
    },
  };
};
