import { describe, expect, it } from '@jest/globals';
import { makeRandomDigits, randomDigits, randomToken, uuid } from '../../../src/infrastructure/crypto/random.js';

describe('randomDigits', () => {
  it('returns exactly `length` decimal digits', () => {
    for (const length of [1, 4, 6, 8, 10, 64]) expect(randomDigits(length)).toMatch(new RegExp(`^[0-9]{${length}}$`));
  });

  it('keeps leading zeros', () => {
    const draws = Array.from({ length: 2000 }, () => randomDigits(6));
    expect(draws.some((d) => d.startsWith('0'))).toBe(true);
    expect(draws.every((d) => d.length === 6)).toBe(true);
  });

  it('is roughly uniform (chi-square over 1,000,000 digits)', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) for (const d of randomDigits(10)) counts[Number(d)] = (counts[Number(d)] ?? 0) + 1;
    const expected = 100_000;
    const chiSquare = counts.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(X > 45) is about 1e-6. A modulo-biased byte % 10 scores ~365 here.
    expect(chiSquare).toBeLessThan(45);
  });

  it('rejects bytes >= 250 instead of folding them (no modulo bias)', () => {
    const bytes = [250, 255, 3, 251, 249, 0];
    // Two bytes per call also exercises the refill loop.
    const source = () => Buffer.from(bytes.splice(0, 2));
    expect(makeRandomDigits(source)(3)).toBe('390');
  });

  it('refuses a non-positive or fractional length', () => {
    for (const length of [0, -1, 2.5, Number.NaN]) expect(() => randomDigits(length)).toThrow(RangeError);
  });
});

describe('randomToken', () => {
  it('is base64url of `bytes` random bytes', () => {
    const token = randomToken(32);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(randomToken(32)).not.toBe(token);
  });
});

describe('uuid', () => {
  it('returns distinct v4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => uuid()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
