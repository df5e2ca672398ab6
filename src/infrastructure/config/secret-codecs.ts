/** Checks for key material. Messages describe a bad value (its size, its type), never echo it. */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { commaList, quote, type Check } from './env-codecs.js';

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

export const base64Key: Check<Buffer> = (raw) => {
  const bytes = decodeBase64(raw);
  return bytes?.length === masterKeyBytes
    ? E.right(bytes)
    : E.left(`must be base64 of exactly ${masterKeyBytes} bytes (openssl rand -base64 32), got ${describeKey(raw)}`);
};

export const previousKeys: Check<readonly NamedKey[]> = (raw) => {
  const rule = `must be a comma-separated list of id:base64 entries (id ${keyIdRule}, key exactly ${masterKeyBytes} bytes)`;
  const entries = commaList<NamedKey>((entry) => {
    const at = entry.indexOf(':');
    const id = at < 0 ? '' : entry.slice(0, at).trim();
    if (!keyIdPattern.test(id)) return E.left(`${rule}, got an entry without a valid id`);
    const key = decodeBase64(entry.slice(at + 1).trim());
    if (key?.length !== masterKeyBytes) return E.left(`${rule}, got key ${quote(id)} of ${describeKey(entry.slice(at + 1).trim())}`);
    return E.right({ id, key });
  })(raw);
  if (E.isLeft(entries)) return entries;
  const ids = entries.right.map((entry) => entry.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  return repeated === undefined ? entries : E.left(`${rule}, got id ${quote(repeated)} twice`);
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

export const jwtSecret: Check<Buffer> = (raw) => {
  const bytes = Buffer.from(raw, 'utf8');
  return bytes.length >= minJwtSecretBytes
    ? E.right(bytes)
    : E.left(`must be at least ${minJwtSecretBytes} bytes, got ${bytes.length} bytes`);
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

export const keyId: Check<string> = (raw) =>
  keyIdPattern.test(raw) ? E.right(raw) : E.left(`must be ${keyIdRule}, got ${quote(raw)}`);
