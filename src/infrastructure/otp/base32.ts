import { ScureBase32Plugin } from 'otplib';

const codec = new ScureBase32Plugin();
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export const encodeBase32 = (bytes: Uint8Array): string => codec.encode(bytes, { padding: false });

/**
 * Bytes of a base32 secret written the way authenticator exports and humans write them:
 * any case, spaces or dashes between groups, optional `=` padding. null when not base32.
 *
 * Bits left over after the last whole byte are ignored, whatever they are and however many
 * characters carry them, as Google Authenticator reads a secret: a strict decoder refused about
 * nine in ten 52-character secrets (their last character's low bits not zero) and every secret
 * of 33 characters, all of which the user's authenticator app took.
 */
export const decodeBase32 = (input: string): Uint8Array | null => {
  const cleaned = input.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');
  if (!/^[A-Z2-7]+$/.test(cleaned)) return null;
  const bytes = new Uint8Array(Math.floor((cleaned.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of cleaned) {
    buffer = ((buffer << 5) | ALPHABET.indexOf(char)) & 0xfff; // at most 12 bits pending
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[index++] = (buffer >> bits) & 0xff;
    }
  }
  return bytes;
};
