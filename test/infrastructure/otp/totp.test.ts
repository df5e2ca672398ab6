import { describe, expect, it } from '@jest/globals';
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { generateSync } from 'otplib';
import type { TotpAlgorithm, TotpParameters } from '../../../src/domain/shared/types.js';
import { decodeBase32, encodeBase32 } from '../../../src/infrastructure/otp/base32.js';
import { createTotp, hotp, parseTotpSecret } from '../../../src/infrastructure/otp/totp.js';

const totp = createTotp();
const ascii = (s: string) => Buffer.from(s, 'ascii');
const at = (unixSeconds: number) => new Date(unixSeconds * 1000);

// RFC 6238 Appendix B: the seed for each hash is "1234567890" repeated to the hash's length.
const seeds: Record<TotpAlgorithm, string> = {
  SHA1: encodeBase32(ascii('12345678901234567890')),
  SHA256: encodeBase32(ascii('12345678901234567890123456789012')),
  SHA512: encodeBase32(ascii('1234567890123456789012345678901234567890123456789012345678901234')),
};

const rfc6238: ReadonlyArray<[number, TotpAlgorithm, string]> = [
  [59, 'SHA1', '94287082'],
  [59, 'SHA256', '46119246'],
  [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'],
  [1111111109, 'SHA256', '68084774'],
  [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'],
  [1111111111, 'SHA256', '67062674'],
  [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'],
  [1234567890, 'SHA256', '91819424'],
  [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'],
  [2000000000, 'SHA256', '90698825'],
  [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'],
  [20000000000, 'SHA256', '77737706'],
  [20000000000, 'SHA512', '47863826'],
];

const rfc4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

const params = (algorithm: TotpAlgorithm = 'SHA1', digits: 6 | 8 = 6): TotpParameters => ({ digits, period: 30, algorithm });

describe('TOTP: RFC 6238 Appendix B', () => {
  it.each(rfc6238)('t=%i %s => %s (8 digits)', (t, algorithm, code) => {
    expect(totp.generate(seeds[algorithm], params(algorithm, 8), at(t))).toBe(code);
    expect(totp.matchStep(seeds[algorithm], code, { ...params(algorithm, 8), window: 0 }, at(t))).toBe(Math.floor(t / 30));
  });

  it.each(rfc6238)('t=%i %s => last 6 digits of %s', (t, algorithm, code) => {
    expect(totp.generate(seeds[algorithm], params(algorithm, 6), at(t))).toBe(code.slice(2));
  });

  it('handles a time above 2^32 seconds (t = 20000000000, step 666666666)', () => {
    expect(20000000000).toBeGreaterThan(2 ** 32);
    expect(totp.matchStep(seeds.SHA1, '65353130', { ...params('SHA1', 8), window: 0 }, at(20000000000))).toBe(666666666);
  });
});

describe('HOTP: RFC 4226 Appendix D', () => {
  it.each(rfc4226.map((code, counter) => [counter, code] as const))('counter %i => %s', (counter, code) => {
    expect(hotp(ascii('12345678901234567890'), counter, 6, 'SHA1')).toBe(code);
  });

  // Independent RFC 4226 reference (64-bit big-endian counter, dynamic truncation) for counters
  // the RFC vectors never reach: a 32-bit counter encoding would get these wrong.
  it.each([2 ** 32, 2 ** 32 + 5, 2 ** 40 + 123, Number.MAX_SAFE_INTEGER])('encodes counter %i on 64 bits', (counter) => {
    const message = Buffer.alloc(8);
    message.writeBigUInt64BE(BigInt(counter));
    const mac = createHmac('sha1', ascii('12345678901234567890')).update(message).digest();
    const offset = (mac[mac.length - 1] as number) & 0x0f;
    const expected = String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
    expect(hotp(ascii('12345678901234567890'), counter, 6, 'SHA1')).toBe(expected);
  });

  // otplib with its default plugin (SHA in JavaScript, @noble/hashes) is an implementation
  // independent of node:crypto: every algorithm and digit count, random keys and counters.
  it('agrees with otplib on random keys, counters, algorithms and digit counts', () => {
    const algorithms: readonly TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
    for (let i = 0; i < 300; i++) {
      const algorithm = algorithms[i % 3]!;
      const digits = i % 2 === 0 ? 6 : 8;
      const key = randomBytes(20 + randomInt(45));
      const counter = i % 5 === 0 ? 2 ** 32 + randomInt(2 ** 40) : randomInt(2 ** 31);
      const reference = generateSync({ strategy: 'hotp', secret: key, counter, digits, algorithm: algorithm.toLowerCase() as 'sha1' });
      expect(hotp(key, counter, digits, algorithm)).toBe(reference);
    }
  });

  it.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN])('refuses the counter %p', (counter) => {
    expect(() => hotp(ascii('12345678901234567890'), counter, 6, 'SHA1')).toThrow(RangeError);
  });

  it('is what TOTP uses at step = counter (period 30, t = 30 * counter)', () => {
    rfc4226.forEach((code, counter) => expect(totp.generate(seeds.SHA1, params(), at(30 * counter + 7))).toBe(code));
  });

  it('honours a 60-second period', () => {
    expect(totp.generate(seeds.SHA1, { ...params(), period: 60 }, at(60 * 3 + 59))).toBe(rfc4226[3]);
  });
});

describe('matchStep window', () => {
  const secret = totp.generateSecret();
  const now = at(1_700_000_015);
  const step = Math.floor(1_700_000_015 / 30);
  const codeAt = (delta: number) => totp.generate(secret, params(), at((step + delta) * 30));

  it('window 1 accepts the previous and next steps, returning that step, but not two away', () => {
    expect(totp.matchStep(secret, codeAt(0), { ...params(), window: 1 }, now)).toBe(step);
    expect(totp.matchStep(secret, codeAt(-1), { ...params(), window: 1 }, now)).toBe(step - 1);
    expect(totp.matchStep(secret, codeAt(1), { ...params(), window: 1 }, now)).toBe(step + 1);
    // Guard against a chance collision with a code inside the window making the next two checks vacuous.
    const inside = new Set([codeAt(-1), codeAt(0), codeAt(1)]);
    if (!inside.has(codeAt(-2))) expect(totp.matchStep(secret, codeAt(-2), { ...params(), window: 1 }, now)).toBeNull();
    if (!inside.has(codeAt(2))) expect(totp.matchStep(secret, codeAt(2), { ...params(), window: 1 }, now)).toBeNull();
  });

  it('window 0 accepts only the current step', () => {
    expect(totp.matchStep(secret, codeAt(0), { ...params(), window: 0 }, now)).toBe(step);
    if (codeAt(-1) !== codeAt(0)) expect(totp.matchStep(secret, codeAt(-1), { ...params(), window: 0 }, now)).toBeNull();
    if (codeAt(1) !== codeAt(0)) expect(totp.matchStep(secret, codeAt(1), { ...params(), window: 0 }, now)).toBeNull();
  });

  it('uses the algorithm and digits asked for', () => {
    const sha256 = { ...params('SHA256', 8), window: 0 };
    expect(totp.matchStep(seeds.SHA256, '46119246', sha256, at(59))).toBe(1);
    expect(totp.matchStep(seeds.SHA256, '46119246', { ...sha256, algorithm: 'SHA1' }, at(59))).toBeNull();
    expect(totp.matchStep(seeds.SHA256, '46119246', { ...sha256, algorithm: 'SHA512' }, at(59))).toBeNull();
    expect(totp.matchStep(seeds.SHA256, '119246', { ...sha256, digits: 6 }, at(59))).toBe(1);
  });

  it.each(['', '12345', '1234567', '12345a', ' 123456', '１２３４５６', '123 456', '-12345', '1e+5'])('returns null (never throws) for the malformed code %j', (code) => {
    expect(totp.matchStep(secret, code, { ...params(), window: 1 }, now)).toBeNull();
  });

  it('computes every step of the window for a refused code, and stops at the step of an accepted one', () => {
    // Each candidate computed is compared (constant time) in the same turn of the loop.
    let computed = 0;
    const counting = createTotp((...args) => {
      computed += 1;
      return hotp(...args);
    });
    const counted = (code: string, window: number) => {
      computed = 0;
      return { step: counting.matchStep(secret, code, { ...params(), window }, now), computed };
    };
    const near = [-2, -1, 0, 1, 2].map(codeAt);
    const refused = ['000000', '123456', '999999'].find((code) => !near.includes(code))!;
    // Timing must not tell which candidate a refused code came nearest to: all of them, always.
    expect(counted(refused, 1)).toEqual({ step: null, computed: 3 });
    expect(counted(refused, 2)).toEqual({ step: null, computed: 5 });
    // An accepted code stops at its step, nearest first: timing tells only what the answer says.
    expect(counted(codeAt(0), 1)).toEqual({ step, computed: 1 });
    if (!near.slice(0, 3).includes(codeAt(1))) expect(counted(codeAt(1), 1)).toEqual({ step: step + 1, computed: 3 });
  });

  it('returns null for a code of the wrong length even if it is a prefix or extension of the right one', () => {
    const code = codeAt(0);
    expect(totp.matchStep(secret, code.slice(0, 5), { ...params(), window: 1 }, now)).toBeNull();
    expect(totp.matchStep(secret, `${code}0`, { ...params(), window: 1 }, now)).toBeNull();
  });
});

describe('secrets', () => {
  it('generates base32 seeds of 20 random bytes (32 characters)', () => {
    const secrets = Array.from({ length: 50 }, () => totp.generateSecret());
    for (const s of secrets) {
      expect(s).toMatch(/^[A-Z2-7]{32}$/);
      expect(decodeBase32(s)).toHaveLength(20);
    }
    expect(new Set(secrets).size).toBe(50);
  });

  it('imports a 32-character base32 secret in any case, with spaces or padding', () => {
    const canonical = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
    for (const written of [canonical, canonical.toLowerCase(), 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq', `${canonical}====`]) {
      expect(parseTotpSecret(written)).toBe(canonical);
      expect(totp.generate(written, params('SHA1', 8), at(59))).toBe('94287082');
      expect(totp.matchStep(written, '94287082', { ...params('SHA1', 8), window: 0 }, at(59))).toBe(1);
    }
  });

  it('refuses seeds shorter than 20 bytes and non-base32 input', () => {
    expect(parseTotpSecret('JBSWY3DPEHPK3PXP')).toBeNull(); // 10 bytes
    expect(parseTotpSecret('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1')).toBeNull();
    expect(parseTotpSecret('')).toBeNull();
    expect(() => totp.generate('JBSWY3DPEHPK3PXP', params(), at(0))).toThrow(/at least 20 bytes/);
  });
});

/**
 * The label as authenticator apps read it: decoded, then split at its colons (an encoded one,
 * %3A, splits it all the same). Two parts are issuer and account, one is the account; more are
 * misread (Aegis: no issuer, the whole label as the account; FreeOTP: split at the first).
 */
const appLabel = (uri: string): { issuer?: string; account: string } | 'ambiguous' => {
  const { host, pathname } = new URL(uri);
  expect(host).toBe('totp');
  const parts = decodeURIComponent(pathname.slice(1)).split(':');
  if (parts.length === 1) return { account: parts[0]! };
  return parts.length === 2 ? { issuer: parts[0]!, account: parts[1]! } : 'ambiguous';
};

describe('otpauth URI', () => {
  it('carries every parameter, encoding issuer and account', () => {
    const uri = totp.uri({ secret: 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq', issuer: 'ACME Co / Prod', account: 'jo+hn@example.com', digits: 8, period: 60, algorithm: 'SHA256' });
    expect(uri).toBe(
      'otpauth://totp/ACME%20Co%20%2F%20Prod:jo%2Bhn%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co%20%2F%20Prod&algorithm=SHA256&digits=8&period=60',
    );
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe('otpauth:');
    expect(appLabel(uri)).toEqual({ issuer: 'ACME Co / Prod', account: 'jo+hn@example.com' });
    expect(parsed.searchParams.get('issuer')).toBe('ACME Co / Prod');
    expect(parsed.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  // Key Uri Format: neither issuer nor account may contain a colon. An app named "ACME Co: Prod"
  // (the default issuer) once made `ACME%20Co%3A%20Prod:jo...`, three parts once decoded.
  it('leaves an issuer with a colon out of the label, naming it exactly in the issuer parameter', () => {
    for (const issuer of ['ACME Co: Prod', 'Acme:Corp', ':', 'a::b:']) {
      const uri = totp.uri({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', issuer, account: 'jo+hn@example.com', digits: 6, period: 30, algorithm: 'SHA1' });
      expect(appLabel(uri)).toEqual({ account: 'jo+hn@example.com' });
      expect(new URL(uri).searchParams.get('issuer')).toBe(issuer);
    }
  });

  it('writes half a surrogate pair (no character, and not URI-encodable) as U+FFFD instead of throwing', () => {
    const uri = totp.uri({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', issuer: 'Bad\ud800Name', account: 'ann\udfff', digits: 6, period: 30, algorithm: 'SHA1' });
    const parsed = new URL(uri);
    expect(parsed.searchParams.get('issuer')).toBe('Bad\uFFFDName');
    expect(appLabel(uri)).toEqual({ issuer: 'Bad\uFFFDName', account: 'ann\uFFFD' });
    expect(totp.uri({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', issuer: 'Emoji 😀', account: 'a', digits: 6, period: 30, algorithm: 'SHA1' })).toContain('Emoji%20%F0%9F%98%80');
  });
});
