import { argon2id, hash, verify } from 'argon2';
import type { PasswordHasher } from '../../application/ports.js';

export type Argon2Options = { readonly memoryCostKiB?: number; readonly timeCost?: number };

// OWASP Password Storage Cheat Sheet minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
export const MIN_MEMORY_COST_KIB = 19456;
export const MIN_TIME_COST = 2;

export const createArgon2PasswordHasher = (options: Argon2Options = {}): PasswordHasher => {
  const memoryCost = options.memoryCostKiB ?? MIN_MEMORY_COST_KIB;
  const timeCost = options.timeCost ?? MIN_TIME_COST;
  if (!Number.isSafeInteger(memoryCost) || memoryCost < MIN_MEMORY_COST_KIB) throw new RangeError(`argon2 memoryCost must be an integer >= ${MIN_MEMORY_COST_KIB} KiB`);
  if (!Number.isSafeInteger(timeCost) || timeCost < MIN_TIME_COST) throw new RangeError(`argon2 timeCost must be an integer >= ${MIN_TIME_COST}`);
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
  };
};
