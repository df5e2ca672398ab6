/**
 * The envelope format itself, opened by hand with the master key: every secret has a data key
 * of its own (destroying one row shreds one secret), AES-256-GCM wraps the data key bound to its
 * id and encrypts the secret bound to its context. The vault contract checks behaviour through
 * the vault; this checks what a reader of the stored rows would have to do.
 */
import { describe, expect, it } from '@jest/globals';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { createEnvelopeVault, type DataKeyRow } from '../../../src/infrastructure/crypto/envelope-vault.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';

const master = { id: 'k1', key: randomBytes(32) };

const aesGcmOpen = (key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, aad: string): Buffer => {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
};

/** A stored row's data key, unwrapped with the master key: iv (12 bytes) ‖ tag (16) ‖ ciphertext, AAD bound to the row's id. */
const unwrap = (row: DataKeyRow): Buffer => {
  const bytes = Buffer.from(row.wrapped, 'base64');
  return aesGcmOpen(master.key, bytes.subarray(0, 12), bytes.subarray(28), bytes.subarray(12, 28), `otp-verify/data-key/${row.key_id}`);
};

describe('envelope encryption', () => {
  const rows = new Map<string, DataKeyRow>();
  const vault = createEnvelopeVault(
    { insert: (row) => void rows.set(row.key_id, row), get: (id) => rows.get(id), delete: (id) => void rows.delete(id) },
    createKeyring([master]),
  );

  it('seals each secret under a data key of its own, 32 random bytes, wrapped with AES-256-GCM under the master key', async () => {
    const sealed = await Promise.all(['seed one', 'seed one', 'seed two'].map((plaintext) => vault.seal(plaintext, 'enrollment:e1')));
    const keys = sealed.map(({ key_id }) => {
      const row = rows.get(key_id)!;
      expect(row.master_key_id).toBe('k1');
      return unwrap(row);
    });
    for (const key of keys) expect(key).toHaveLength(32);
    expect(new Set(keys.map((key) => key.toString('hex'))).size).toBe(3);
  });

  it('encrypts the secret with AES-256-GCM under its data key, bound to its context', async () => {
    const sealed = await vault.seal('JBSWY3DPEHPK3PXP', 'enrollment:e2');
    const dataKey = unwrap(rows.get(sealed.key_id)!);
    const [iv, ciphertext, tag] = [sealed.iv, sealed.ciphertext, sealed.tag].map((part) => Buffer.from(part, 'base64')) as [Buffer, Buffer, Buffer];
    expect(iv).toHaveLength(12);
    expect(aesGcmOpen(dataKey, iv, ciphertext, tag, 'enrollment:e2').toString('utf8')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => aesGcmOpen(dataKey, iv, ciphertext, tag, 'enrollment:e3')).toThrow();
  });

  it('shreds one secret by deleting its row, leaving another sealed at the same moment readable', async () => {
    const [one, two] = await Promise.all([vault.seal('first', 'ctx'), vault.seal('second', 'ctx')]);
    await vault.destroy(one!.key_id);
    expect(await vault.open(one!, 'ctx')).toBeNull();
    expect(await vault.open(two!, 'ctx')).toBe('second');
    // With the row gone, no other row's key opens it: each was made for its own secret.
    const [iv, ciphertext, tag] = [one!.iv, one!.ciphertext, one!.tag].map((part) => Buffer.from(part, 'base64')) as [Buffer, Buffer, Buffer];
    for (const row of rows.values()) expect(() => aesGcmOpen(unwrap(row), iv, ciphertext, tag, 'ctx')).toThrow();
  });

  it("leaves no copy of an unwrapped data key or an opened secret in the decipher's output buffers", async () => {
    const sealed = await vault.seal('a seed to open', 'enrollment:e9');
    const prototype = Object.getPrototypeOf(createDecipheriv('aes-256-gcm', randomBytes(32), randomBytes(12))) as { update: (...args: unknown[]) => Buffer };
    const update = prototype.update;
    const outputs: Buffer[] = [];
    prototype.update = function (this: unknown, ...args: unknown[]) {
      const out = update.apply(this, args);
      outputs.push(out);
      return out;
    };
    try {
      expect(await vault.open(sealed, 'enrollment:e9')).toBe('a seed to open');
    } finally {
      prototype.update = update;
    }
    // The data key's unwrapping and the secret's decryption: both outputs zeroed once copied.
    expect(outputs.map((out) => out.length)).toEqual([32, 'a seed to open'.length]);
    expect(outputs.every((out) => out.every((byte) => byte === 0))).toBe(true);
  });
});
