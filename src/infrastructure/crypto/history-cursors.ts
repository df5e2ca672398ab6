/**
 * Opaque cursors of the history endpoints. A history entry's position is the event's position
 * in the log every tenant shares: shown as a number, two of a tenant's own positions would tell
 * it how many events every other tenant wrote in between (their traffic, and when). A cursor
 * is that position encrypted as one AES block under a key only the service holds: the same
 * position always gives the same cursor (every process of a deployment, across restarts), two
 * cursors say nothing of how far apart their positions are, and only a cursor the service
 * issued decodes, so nobody can ask for the page after a position of their choosing.
 *
 * Block: 8-byte big-endian position (signed, as the stores' positions are), then 8 zero bytes. AES is a pseudo-random permutation of
 * 16-byte blocks (ECB over a single block is just that permutation), so any other token
 * decrypts to 8 check bytes that are all zero with probability 2^-64: altered or made up, it is
 * refused. Token: `c1.` (the format's version) and the block in base64url, 25 characters.
 */
import { createCipheriv, createDecipheriv, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { KeyedHash } from '../../application/ports.js';

export type HistoryCursors = {
  /** The cursor of a log position (an integer; the stores number from 1). */
  readonly encode: (position: number) => string;
  /** The position of a cursor `encode` issued under the same key; undefined for anything else. */
  readonly decode: (token: string) => number | undefined;
};

const PREFIX = 'c1.';
const BLOCK_BYTES = 16;
const TOKEN_BODY = /^[A-Za-z0-9_-]{22}$/;
const CHECK = Buffer.alloc(8);
const MAX_POSITION = BigInt(Number.MAX_SAFE_INTEGER);

/** Cursors under a 32-byte key. */
export const createHistoryCursors = (key: Uint8Array): HistoryCursors => {
  if (key.length !== 32) throw new RangeError('a history cursor key is 32 bytes');
  const secret: KeyObject = createSecretKey(Buffer.from(key));
  const run = (cipher: ReturnType<typeof createCipheriv> | ReturnType<typeof createDecipheriv>, block: Buffer): Buffer => {
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]);
  };
  return {
    encode: (position) => {
      // Any integer a store's 64-bit position holds: a row slipped in below position 1 behind the
      // store's back (which the audit reports) still gets a cursor rather than failing the page.
      if (!Number.isInteger(position) || Math.abs(position) > 2 ** 63) throw new RangeError('a history position is a 64-bit integer');
      const block = Buffer.alloc(BLOCK_BYTES);
      block.writeBigInt64BE(BigInt.asIntN(64, BigInt(position)), 0);
      return PREFIX + run(createCipheriv('aes-256-ecb', secret, null), block).toString('base64url');
    },
    decode: (token) => {
      if (typeof token !== 'string' || !token.startsWith(PREFIX)) return undefined;
      const body = token.slice(PREFIX.length);
      if (!TOKEN_BODY.test(body)) return undefined;
      const block = Buffer.from(body, 'base64url');
      // The 22nd character carries 4 unused bits: only the spelling encode gives is accepted, so
      // each cursor has exactly one form.
      if (block.length !== BLOCK_BYTES || block.toString('base64url') !== body) return undefined;
      const plain = run(createDecipheriv('aes-256-ecb', secret, null), block);
      if (!timingSafeEqual(plain.subarray(8), CHECK)) return undefined;
      const position = plain.readBigInt64BE(0);
      return position > MAX_POSITION || position < -MAX_POSITION ? undefined : Number(position);
    },
  };
};

/**
 * The deployment's cursors: the key is a keyed hash under the master key's derived
 * `identifier` key, of a value no other use of that purpose can produce (it holds a NUL, which
 * usernames, addresses and the other hashed identifiers cannot), so no hash the service
 * computes or stores elsewhere is this key.
 */
export const historyCursorsOf = (keyedHash: KeyedHash): HistoryCursors =>
  createHistoryCursors(Buffer.from(keyedHash('identifier', 'history-cursor\u0000key\u0000v1'), 'hex'));
