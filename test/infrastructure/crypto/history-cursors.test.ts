/**
 * The history endpoints' opaque cursors: a position goes in and comes back out under the same
 * key; nothing else decodes (another key, an altered or made-up token), and cursors of nearby
 * positions look unrelated, so they say nothing of how far apart two events are in the log.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createHistoryCursors, historyCursorsOf } from '../../../src/infrastructure/crypto/history-cursors.js';
import { createKeyedHash } from '../../../src/infrastructure/crypto/keyed-hash.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';

const fixedKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const cursors = createHistoryCursors(fixedKey);
const positions = [0, 1, 2, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER];
const bitsApart = (a: Buffer, b: Buffer) => a.reduce((sum, byte, i) => sum + [...(byte ^ b[i]!).toString(2)].filter((bit) => bit === '1').length, 0);
const blockOf = (token: string) => Buffer.from(token.slice(3), 'base64url');

describe('history cursors', () => {
  it('decode what they encode, from 0 to Number.MAX_SAFE_INTEGER, as c1. and 22 base64url characters', () => {
    for (const position of positions) {
      const token = cursors.encode(position);
      expect(token).toMatch(/^c1\.[A-Za-z0-9_-]{22}$/);
      expect(cursors.decode(token)).toBe(position);
    }
    for (let i = 0; i < 200; i++) {
      const position = Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
      expect(cursors.decode(cursors.encode(position))).toBe(position);
    }
  });

  it('are deterministic: another instance under the same key gives and takes the same cursors', () => {
    const again = createHistoryCursors(Buffer.from(fixedKey));
    for (const position of positions) {
      expect(again.encode(position)).toBe(cursors.encode(position));
      expect(again.decode(cursors.encode(position))).toBe(position);
    }
  });

  it('do not decode under another key', () => {
    const other = createHistoryCursors(randomBytes(32));
    for (const position of positions) expect(other.decode(cursors.encode(position))).toBeUndefined();
    const oneBitOff = Buffer.from(fixedKey);
    oneBitOff[31]! ^= 1;
    for (const position of positions) expect(createHistoryCursors(oneBitOff).decode(cursors.encode(position))).toBeUndefined();
  });

  it('refuse a token with any byte of its block changed, or any character of it changed', () => {
    for (const position of [0, 1, 123_456, Number.MAX_SAFE_INTEGER]) {
      const token = cursors.encode(position);
      const block = blockOf(token);
      for (let i = 0; i < block.length; i++) {
        for (const flip of [0x01, 0x80, 0xff]) {
          const altered = Buffer.from(block);
          altered[i]! ^= flip;
          expect(cursors.decode(`c1.${altered.toString('base64url')}`)).toBeUndefined();
        }
      }
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      for (let i = 0; i < token.length; i++) {
        for (const c of `${alphabet}.=+/ `) {
          if (c === token[i]) continue;
          expect(cursors.decode(token.slice(0, i) + c + token.slice(i + 1))).toBeUndefined();
        }
      }
    }
  });

  it('refuse garbage, the empty string, a wrong prefix or length, and plain numbers', () => {
    const token = cursors.encode(42);
    const block = blockOf(token);
    for (const garbage of [
      '',
      'c1.',
      'c1',
      '42',
      '0',
      '-1',
      token.slice(3),
      `c2.${token.slice(3)}`,
      `C1.${token.slice(3)}`,
      `x${token}`,
      `${token}A`,
      token.slice(0, -1),
      `${token}=`,
      `${token}==`,
      `c1.${block.toString('base64')}`,
      `c1.${Buffer.concat([block, block]).toString('base64url')}`,
      `c1.${block.subarray(0, 15).toString('base64url')}`,
      `c1.${'A'.repeat(22)}`,
      `c1.${'_'.repeat(22)}`,
      ` ${token}`,
      `${token}\n`,
      'c1.\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9',
    ]) {
      expect(cursors.decode(garbage)).toBeUndefined();
    }
    expect(cursors.decode(42 as unknown as string)).toBeUndefined();
    expect(cursors.decode(undefined as unknown as string)).toBeUndefined();
  });

  it('refuse a well-formed block whose position is beyond Number.MAX_SAFE_INTEGER, though its check bytes hold', async () => {
    // Made with the key directly (what no client can do): the plaintext is a valid block.
    const { createCipheriv } = await import('node:crypto');
    const plain = Buffer.alloc(16);
    plain.writeBigUInt64BE(BigInt(Number.MAX_SAFE_INTEGER) + 1n, 0);
    const cipher = createCipheriv('aes-256-ecb', fixedKey, null).setAutoPadding(false);
    const token = `c1.${Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64url')}`;
    expect(cursors.decode(token)).toBeUndefined();
  });

  it('refuse to encode what is no log position', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 64]) expect(() => cursors.encode(bad)).toThrow(RangeError);
  });

  it('encode a position below the first that a row slipped in behind the store\'s back has, so its history page still answers; decode it back while it is a safe integer', () => {
    for (const position of [0, -1, Number.MIN_SAFE_INTEGER]) expect(cursors.decode(cursors.encode(position))).toBe(position);
    // Rounded from below -2^53: a cursor, which no page takes back.
    expect(cursors.decode(cursors.encode(-(2 ** 62)))).toBeUndefined();
  });

  it('give consecutive positions cursors with no shared structure beyond the prefix', () => {
    const tokens = Array.from({ length: 1_001 }, (_, i) => cursors.encode(1_000 + i));
    expect(new Set(tokens).size).toBe(tokens.length);
    let samePrefixPairs = 0;
    let bits = 0;
    for (let i = 1; i < tokens.length; i++) {
      const [a, b] = [tokens[i - 1]!, tokens[i]!];
      if (a[3] === b[3]) samePrefixPairs += 1;
      bits += bitsApart(blockOf(a), blockOf(b));
    }
    // A random pair shares its first character 1 time in 64 (about 16 pairs of 1,000) and
    // differs in 64 of 128 bits on average; counters or offsets would show far more in common.
    expect(samePrefixPairs).toBeLessThan(40);
    expect(bits / (tokens.length - 1)).toBeGreaterThan(60);
    expect(bits / (tokens.length - 1)).toBeLessThan(68);
    // The first cursor of a log and its neighbours say nothing either.
    const first = [0, 1, 2, 3].map((p) => cursors.encode(p));
    for (let i = 1; i < first.length; i++) expect(first[i]!.slice(0, 5)).not.toBe(first[i - 1]!.slice(0, 5));
  });

  it("come from the deployment's keyed hash: one hash root, one set of cursors, in every process and after a restart; another root's do not decode", () => {
    const root = randomBytes(32);
    const a = historyCursorsOf(createKeyedHash(createKeyring([{ id: 'hash-root', key: root }])));
    const b = historyCursorsOf(createKeyedHash(createKeyring([{ id: 'hash-root', key: Buffer.from(root) }])));
    const other = historyCursorsOf(createKeyedHash(createKeyring([{ id: 'hash-root', key: randomBytes(32) }])));
    for (const position of positions) {
      expect(b.encode(position)).toBe(a.encode(position));
      expect(b.decode(a.encode(position))).toBe(position);
      expect(other.decode(a.encode(position))).toBeUndefined();
    }
  });
});
