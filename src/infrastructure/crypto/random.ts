import { randomBytes, randomUUID } from 'node:crypto';
import type { IdGenerator, RandomDigits, RandomToken } from '../../application/ports.js';

export type ByteSource = (count: number) => Buffer;

// 250 is the largest multiple of 10 that fits in a byte; bytes >= 250 are redrawn so
// every digit has probability exactly 25/250.
const ACCEPT_BELOW = 250;

const assertCount = (what: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer`);
};

/** Digits by rejection sampling over `source`; injectable so the rejection path is testable. */
export const makeRandomDigits =
  (source: ByteSource): RandomDigits =>
  (length) => {
    assertCount('length', length);
    let digits = '';
    while (digits.length < length) {
      // A few spare bytes cover the ~2.3% rejected, so one draw usually suffices.
      for (const byte of source(length - digits.length + 4)) {
        if (byte >= ACCEPT_BELOW) continue;
        digits += String(byte % 10);
        if (digits.length === length) break;
      }
    }
    return digits;
  };

export const randomDigits: RandomDigits = makeRandomDigits(randomBytes);

export const randomToken: RandomToken = (bytes) => {
  assertCount('bytes', bytes);
  return randomBytes(bytes).toString('base64url');
};

export const uuid: IdGenerator = () => randomUUID();
