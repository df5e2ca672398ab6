/**
 * The production safeEqual is built on crypto.timingSafeEqual: node:crypto is replaced by the
 * real module with a recording timingSafeEqual whose answer the test can overrule, so a
 * comparison with === (or any other early-exit compare) fails here.
 */
import { describe, expect, it, jest } from '@jest/globals';
import * as realCrypto from 'node:crypto';

const calls: [Buffer, Buffer][] = [];
let overrule: boolean | undefined;
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  default: realCrypto,
  timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
    calls.push([Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)]);
    const same = realCrypto.timingSafeEqual(a, b);
    return overrule ?? same;
  },
}));
const { safeEqual } = await import('../../../src/infrastructure/crypto/keyed-hash.js');

const compare = (a: string, b: string, answer?: boolean) => {
  calls.length = 0;
  overrule = answer;
  try {
    return safeEqual(a, b);
  } finally {
    overrule = undefined;
  }
};

describe('safeEqual on crypto.timingSafeEqual', () => {
  it('calls timingSafeEqual once per comparison, on equal-length buffers, whatever the inputs', () => {
    for (const [a, b] of [
      ['4c1e0f2a9b', '4c1e0f2a9b'],
      ['4c1e0f2a9b', '4c1e0f2a9c'],
      ['123456', '12345678'],
      ['', 'a much longer value than the other one'],
    ] as const) {
      expect(compare(a, b)).toBe(a === b);
      expect(calls).toHaveLength(1);
      const [left, right] = calls[0]!;
      expect(left.length).toBe(right.length);
    }
  });

  it('answers what timingSafeEqual answers: a matching pair it refuses is not equal', () => {
    expect(compare('same value', 'same value')).toBe(true);
    expect(compare('same value', 'same value', false)).toBe(false);
    expect(calls).toHaveLength(1);
  });
});
