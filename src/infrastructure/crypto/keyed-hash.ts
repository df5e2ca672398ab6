import { createHmac, hash, timingSafeEqual } from 'node:crypto';
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
  const sameDigest = timingSafeEqual(hash('sha256', a, 'buffer'), hash('sha256', b, 'buffer'));
  return sameDigest && Buffer.byteLength(a, 'utf8') === Buffer.byteLength(b, 'utf8');
};
