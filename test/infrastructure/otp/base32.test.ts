/**
 * Imported secrets are read as authenticator apps read them (Google Authenticator's
 * Base32String): any case, spaces or dashes between groups, `=` padding, and the bits after the
 * last whole byte ignored, so a secret the user's app takes is one the service takes, with the
 * same bytes and so the same codes.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeBase32, encodeBase32 } from '../../../src/infrastructure/otp/base32.js';
import { parseTotpSecret } from '../../../src/infrastructure/otp/totp.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const bytes = (length: number, seed = 7) => Uint8Array.from({ length }, (_, i) => (i * 131 + seed) % 256);

describe('base32 secrets', () => {
  it('round-trips every length of canonical secret', () => {
    for (let length = 1; length <= 64; length++) expect([length, decodeBase32(encodeBase32(bytes(length)))]).toEqual([length, bytes(length)]);
  });

  it('ignores the bits after the last whole byte, as authenticator apps do', () => {
    const canonical = encodeBase32(bytes(32)); // 52 characters, the last carrying 1 bit of the key and 4 left over
    expect(canonical).toHaveLength(52);
    const last = canonical.at(-1)!;
    const sameBits = [...ALPHABET].filter((c) => ALPHABET.indexOf(c) >> 4 === ALPHABET.indexOf(last) >> 4 && c !== last);
    expect(sameBits).toHaveLength(15);
    for (const c of sameBits) expect(decodeBase32(`${canonical.slice(0, -1)}${c}`)).toEqual(bytes(32));
    // A 33-character secret: 20 bytes and 5 bits over.
    expect(decodeBase32(`${encodeBase32(bytes(20))}Q`)).toEqual(bytes(20));
  });

  it('reads grouped and padded spellings, and nothing that is not base32', () => {
    const canonical = encodeBase32(bytes(20));
    const grouped = canonical.match(/.{4}/g)!;
    for (const written of [grouped.join(' '), grouped.join('-'), canonical.toLowerCase(), `${canonical}====`, ` ${canonical}\n`])
      expect(decodeBase32(written)).toEqual(bytes(20));
    for (const refused of ['', '====', `${canonical.slice(0, -1)}1`, `${canonical}8`, `${canonical}0`, 'Ä'.repeat(32), `${canonical}=A`]) expect(decodeBase32(refused)).toBeNull();
  });

  it('imports a secret of at least 20 bytes in its canonical form', () => {
    const canonical = encodeBase32(bytes(32));
    const last = ALPHABET.indexOf(canonical.at(-1)!);
    expect(parseTotpSecret(`${canonical.slice(0, -1)}${ALPHABET[last | 0b01111]}`)).toBe(canonical);
    expect(parseTotpSecret(encodeBase32(bytes(19)))).toBeNull();
    expect(parseTotpSecret(encodeBase32(bytes(16)))).toBeNull();
  });
});
