/** Checks for key material. Messages describe a bad value (its size, its type), never echo it. */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { type Check } from './env-codecs.js';

export const masterKeyBytes = 32;
export const minJwtSecretBytes = 32;
const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
export const keyIdRule = "1 to 64 letters, digits, '.', '_' or '-'";

export type NamedKey = { readonly id: string; readonly key: Buffer };
export type Ed25519KeyPair = { readonly privateKeyPem: string; readonly publicKeyPem: string };

/** Strict base64 (standard or URL-safe alphabet, padding optional) to bytes, or undefined. */
export const decodeBase64 = (raw: string): Buffer | undefined => {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) || raw.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
};

const describeKey = (raw: string): string => {
  const bytes = decodeBase64(raw);
  return bytes === undefined ? 'a value that is not base64' : `${bytes.length} bytes`;
};

/**
 * Fewest different bytes in 32 random ones, and different characters in a random secret, that
 * a key is taken with: 32 random bytes hold about 30 different values, and fewer than 8 is
 * as good as impossible (all zeros, a byte repeated, a placeholder); `openssl rand -hex 16`
 * showed fewer than 8 different characters in none of 200,000 tries.
 */
const minDistinct = 8;

/** True when `text` is a shorter string written at least twice over (`passwordpassword…`, `abab`). */
export const isRepetition = (text: string): boolean => {
  for (let period = 1; period <= text.length / 2; period++) if (text.slice(period) === text.slice(0, text.length - period)) return true;
  return false;
};

export const base64Key: Check<Buffer> = (raw) => {
  const bytes = decodeBase64(raw);
  if (bytes?.length !== masterKeyBytes) return E.left(`must be base64 of exactly ${masterKeyBytes} bytes (openssl rand -base64 32), got ${describeKey(raw)}`);
  return new Set(bytes).size < minDistinct
    ? E.left(`must be ${masterKeyBytes} random bytes (openssl rand -base64 32), got ${masterKeyBytes} bytes of fewer than ${minDistinct} different values`)
    : E.right(bytes);
};

/** The entries of PREVIOUS_MASTER_KEYS as written, blanks dropped; messages name them by position (1 first). */
export const previousKeyEntries = (raw: string): string[] =>
  raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');

/** The id of an entry of PREVIOUS_MASTER_KEYS: what precedes its first ':', or '' without one. */
export const previousKeyId = (entry: string): string => {
  const at = entry.indexOf(':');
  return at < 0 ? '' : entry.slice(0, at).trim();
};

/**
 * id:key entries. Ids are not shown in messages either: an entry written key:id puts the key
 * where the id belongs, so entries are named by their position.
 */
export const previousKeys: Check<readonly NamedKey[]> = (raw) => {
  const rule = `must be a comma-separated list of id:base64 entries (id ${keyIdRule}, key exactly ${masterKeyBytes} bytes)`;
  const keys: NamedKey[] = [];
  for (const [i, entry] of previousKeyEntries(raw).entries()) {
    const id = previousKeyId(entry);
    if (!keyIdPattern.test(id)) return E.left(`${rule}, got entry ${i + 1} without a valid id`);
    const encoded = entry.slice(entry.indexOf(':') + 1).trim();
    const key = decodeBase64(encoded);
    if (key?.length !== masterKeyBytes) return E.left(`${rule}, got entry ${i + 1} with a key of ${describeKey(encoded)}`);
    const first = keys.findIndex((known) => known.id === id);
    if (first >= 0) return E.left(`${rule}, got entries ${first + 1} and ${i + 1} with the same id`);
    keys.push({ id, key });
  }
  return E.right(keys);
};

/** Bytes at least in a webhook signing secret (Resend's, through Svix, hold 24). */
export const minWebhookSecretBytes = 16;

/** A Standard Webhooks signing secret as Resend shows it: whsec_ and standard base64. */
export const webhookSigningSecret: Check<string> = (raw) => {
  const rule = `must be the signing secret Resend shows for the endpoint: whsec_ and base64 of at least ${minWebhookSecretBytes} bytes`;
  if (!raw.startsWith('whsec_')) return E.left(`${rule}, got a value without the whsec_ prefix`);
  const body = raw.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return E.left(`${rule}, got whsec_ and a value that is not standard base64`);
  const bytes = decodeBase64(body);
  return bytes !== undefined && bytes.length >= minWebhookSecretBytes ? E.right(raw) : E.left(`${rule}, got whsec_ and ${describeKey(body)}`);
};

/**
 * An HS256 secret, used as its UTF-8 bytes. Anyone who guesses it signs tokens for any operator,
 * and one token is enough to test guesses offline: a secret short, repeated or of few
 * characters is refused (a passphrase of words passes this and is still weak: use
 * openssl rand -base64 48).
 */
export const jwtSecret: Check<Buffer> = (raw) => {
  const bytes = Buffer.from(raw, 'utf8');
  const rule = `must be a random secret of at least ${minJwtSecretBytes} bytes (openssl rand -base64 48)`;
  if (bytes.length < minJwtSecretBytes) return E.left(`${rule}, got ${bytes.length} bytes`);
  if (isRepetition(raw.trim())) return E.left(`${rule}, got a shorter value repeated`);
  if (new Set(raw).size < minDistinct) return E.left(`${rule}, got fewer than ${minDistinct} different characters`);
  return E.right(bytes);
};

/** Accepts PEM with real newlines or with "\n" escapes, as env files often carry it. */
export const ed25519PrivateKey: Check<Ed25519KeyPair> = (raw) => {
  const expected = 'must be an Ed25519 private key in PEM (PKCS#8)';
  try {
    const key = createPrivateKey(raw.replace(/\\n/g, '\n'));
    if (key.asymmetricKeyType !== 'ed25519') return E.left(`${expected}, got a ${String(key.asymmetricKeyType)} key`);
    return E.right({
      privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
      publicKeyPem: createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString(),
    });
  } catch {
    return E.left(`${expected}, got a value that is not a PEM private key`);
  }
};

/**
 * MASTER_KEY_ID: a refused value is not shown (the likely mistake is the key itself, pasted
 * here), only whether it is too long or has other characters, and whether it has a key's shape.
 */
export const keyId: Check<string> = (raw) => {
  if (keyIdPattern.test(raw)) return E.right(raw);
  const what = raw.length > 64 ? `${raw.length} characters` : `${raw.length} characters, not all of them allowed`;
  const keyShaped = decodeBase64(raw)?.length === masterKeyBytes ? ', shaped like a base64 key: the id only names the key, MASTER_KEY holds it' : '';
  return E.left(`must be ${keyIdRule}, got a value of ${what} (not shown)${keyShaped}`);
};
