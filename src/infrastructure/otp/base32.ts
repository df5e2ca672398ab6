import { ScureBase32Plugin } from 'otplib';

const codec = new ScureBase32Plugin();

export const encodeBase32 = (bytes: Uint8Array): string => codec.encode(bytes, { padding: false });

/**
 * Bytes of a base32 secret written the way authenticator exports and humans write them:
 * any case, spaces or dashes between groups, optional `=` padding. null when not base32.
 */
export const decodeBase32 = (input: string): Uint8Array | null => {
  const cleaned = input.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');
  if (!/^[A-Z2-7]+$/.test(cleaned)) return null;
  try {
    return codec.decode(cleaned);
  } catch {
    return null; // non-canonical trailing bits or an impossible length
  }
};
