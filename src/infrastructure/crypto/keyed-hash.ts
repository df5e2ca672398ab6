import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { HashPurpose, KeyedHash, SafeEqual } from '../../application/ports.js';
import type { Keyring } from './keyring.js';

/** One derived key per purpose, so a hash computed for one use is useless for another. */
export const createKeyedHash = (keyring: Keyring): KeyedHash => {
  const keys = new Map<HashPurpose, Buffer>();
  const keyFor = (purpose: HashPurpose): Buffer => {
    let key = keys.get(purpose);
    if (!key) {
      key = keyring.derive(`keyed-hash:${purpose}`);
      keys.set(purpose, key);
    }
    return key;
  };
  return (purpose, value) => createHmac('sha256', keyFor(purpose)).update(value, 'utf8').digest('hex');
};

/**
 * Both sides are digested first so timingSafeEqual always compares 32 bytes: the time
 * taken depends neither on where the strings differ nor on the secret side's length.
 */
export const safeEqual: SafeEqual = (a, b) => {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  const sameDigest = timingSafeEqual(createHash('sha256').update(left).digest(), createHash('sha256').update(right).digest());
  return sameDigest && left.length === right.length;
};
