/**
 * TOTP codes are compared in constant time: node:crypto is replaced by the real module with a
 * recording timingSafeEqual whose answer the test can overrule, so a match decided by === (or
 * any early-exit compare) fails here. The HOTP values themselves are still the real ones.
 */
import { describe, expect, it, jest } from '@jest/globals';
import * as realCrypto from 'node:crypto';

const calls: [string, string][] = [];
let overrule: boolean | undefined;
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  default: realCrypto,
  timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
    const left = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const right = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    calls.push([left.toString('latin1'), right.toString('latin1')]);
    return overrule ?? realCrypto.timingSafeEqual(a, b);
  },
}));
const { createTotp } = await import('../../../src/infrastructure/otp/totp.js');

const totp = createTotp();
const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const settings = { digits: 6, period: 30, algorithm: 'SHA1', window: 1 } as const;
const now = new Date('2026-03-03T10:00:10Z');
const step = Math.floor(now.getTime() / 30_000);
const codeAt = (delta: number) => totp.generate(secret, settings, new Date(now.getTime() + delta * 30_000));

const match = (code: string, answer?: boolean) => {
  calls.length = 0;
  overrule = answer;
  try {
    return totp.matchStep(secret, code, settings, now);
  } finally {
    overrule = undefined;
  }
};

describe('TOTP comparison in constant time', () => {
  it('decides a match by timingSafeEqual: the right code it refuses is not accepted', () => {
    expect(match(codeAt(0))).toBe(step);
    expect(match(codeAt(0), false)).toBeNull();
  });

  it('compares a refused code with every candidate of the window, on equal-length buffers', () => {
    const wrong = codeAt(0) === '000000' ? '000001' : '000000';
    expect(match(wrong)).toBeNull();
    expect(calls.map(([candidate]) => candidate).sort()).toEqual([codeAt(-1), codeAt(0), codeAt(1)].sort());
    for (const [candidate, given] of calls) {
      expect(given).toBe(wrong);
      expect(candidate).toHaveLength(given.length);
    }
  });

  it('accepts a code of a step beside the current one only through the comparison', () => {
    expect(match(codeAt(1))).toBe(step + 1);
    expect(calls.at(-1)).toEqual([codeAt(1), codeAt(1)]);
    expect(match(codeAt(-1), false)).toBeNull();
  });
});
