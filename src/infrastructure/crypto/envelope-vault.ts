/**
 * Envelope encryption shared by the vault adapters: each secret gets its own data key (DEK),
 * stored only wrapped under a master key, so destroying one DEK row shreds one secret and a
 * master key rotation never has to re-encrypt secrets: re-wrapping the data keys under the new
 * master key (key-rotation.ts) retires the old one.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { Clock, SecretVault } from '../../application/ports.js';
import type { SealedSecret } from '../../domain/shared/sealed.js';
import type { Keyring, MasterKey } from './keyring.js';

export type DataKeyRow = { readonly key_id: string; readonly master_key_id: string; readonly wrapped: string; readonly created_at: string };

type MaybePromise<T> = T | Promise<T>;

/** Where wrapped data keys live; the only part that differs between adapters (synchronous for SQLite, async for PostgreSQL). */
export type DataKeyStore = {
  readonly insert: (row: DataKeyRow) => MaybePromise<void>;
  readonly get: (keyId: string) => MaybePromise<DataKeyRow | undefined>;
  readonly delete: (keyId: string) => MaybePromise<void>;
};

/** Thrown when a sealed secret or a wrapped key fails authentication (tampering, wrong context). */
export class SecretTampered extends Error {
  override readonly name = 'SecretTampered';
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

type Encrypted = { readonly iv: Buffer; readonly ciphertext: Buffer; readonly tag: Buffer };

const encrypt = (key: Buffer, plaintext: Buffer, aad: string): Encrypted => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
};

const decrypt = (key: Buffer, { iv, ciphertext, tag }: Encrypted, aad: string, what: string, hint?: string): Buffer => {
  // Explicit lengths: GCM would otherwise accept truncated tags, which weakens authentication.
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretTampered(`${what}: malformed iv or tag`);
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  // The caller zeroes what it is given (a data key once used); the decipher's own output, of
  // which that is a copy, is zeroed here, so no second copy of a key waits for the collector.
  let head: Buffer | undefined;
  try {
    head = decipher.update(ciphertext);
    return Buffer.concat([head, decipher.final()]);
  } catch (error) {
    throw new SecretTampered(`${what}: authentication failed${hint === undefined ? '' : ` (${hint})`}`, { cause: error });
  } finally {
    head?.fill(0);
  }
};

// The wrapped DEK is bound to its own id so rows cannot be swapped between records.
const wrapAad = (keyId: string): string => `otp-verify/data-key/${keyId}`;

const pack = ({ iv, ciphertext, tag }: Encrypted): string => Buffer.concat([iv, tag, ciphertext]).toString('base64');
const unpack = (wrapped: string): Encrypted => {
  const bytes = Buffer.from(wrapped, 'base64');
  return { iv: bytes.subarray(0, IV_BYTES), tag: bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES), ciphertext: bytes.subarray(IV_BYTES + TAG_BYTES) };
};

/** A data key wrapped under `master`, bound to its id. */
export const wrapDataKey = (master: MasterKey, keyId: string, dek: Buffer): string => pack(encrypt(master.key, dek, wrapAad(keyId)));

/** The data key of `row`, unwrapped with the master key it names; the caller zeroes it. */
export const unwrapDataKey = (keyring: Keyring, row: DataKeyRow): Buffer => {
  const master = keyring.byId(row.master_key_id);
  if (!master) throw new Error(`Master key "${row.master_key_id}" is not in the keyring; it is needed to open data key ${row.key_id}`);
  // Failing here means the key under that id is not the one the data key was wrapped with (a
  // new MASTER_KEY given an old id), or the row was altered: say both, naming the id.
  return decrypt(
    master.key,
    unpack(row.wrapped),
    wrapAad(row.key_id),
    `data key ${row.key_id} under master key "${row.master_key_id}"`,
    'the key configured under that id is not the one it was wrapped with, e.g. a new MASTER_KEY under an old MASTER_KEY_ID, or the row was altered',
  );
};

export const createEnvelopeVault = (store: DataKeyStore, keyring: Keyring, clock: Clock = () => new Date()): SecretVault => {
  const seal = async (plaintext: string, context: string): Promise<SealedSecret> => {
    const dek = randomBytes(32);
    try {
      const keyId = randomUUID();
      const master = keyring.current;
      const sealed = encrypt(dek, Buffer.from(plaintext, 'utf8'), context);
      const wrapped = wrapDataKey(master, keyId, dek);
      dek.fill(0); // before the store's await: the key is not kept in memory while waiting on I/O
      await store.insert({ key_id: keyId, master_key_id: master.id, wrapped, created_at: clock().toISOString() });
      return { key_id: keyId, iv: sealed.iv.toString('base64'), ciphertext: sealed.ciphertext.toString('base64'), tag: sealed.tag.toString('base64') };
    } finally {
      dek.fill(0);
    }
  };

  const open = async (sealed: SealedSecret, context: string): Promise<string | null> => {
    const row = await store.get(sealed.key_id);
    if (!row) return null;
    const dek = unwrapDataKey(keyring, row);
    try {
      const parts = { iv: Buffer.from(sealed.iv, 'base64'), ciphertext: Buffer.from(sealed.ciphertext, 'base64'), tag: Buffer.from(sealed.tag, 'base64') };
      return decrypt(dek, parts, context, `secret ${sealed.key_id}`).toString('utf8');
    } finally {
      dek.fill(0);
    }
  };

  return {
    seal,
    open,
    destroy: async (keyId) => {
      await store.delete(keyId);
    },
  };
};
