import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { KeyRotation, SecretVault } from '../../src/application/ports.js';
import type { SealedSecret } from '../../src/domain/shared/sealed.js';
import { createKeyring, type Keyring } from '../../src/infrastructure/crypto/keyring.js';

export type SecretVaultHarness = {
  readonly subject: SecretVault;
  /** A second vault over the same storage with another keyring, as after a restart with rotated keys. */
  readonly reopen: (keyring: Keyring) => Promise<SecretVault>;
  /** Re-wrapping the data keys of the same storage under `keyring`'s current key, `pageSize` rows a read. */
  readonly rotation: (keyring: Keyring, pageSize?: number) => KeyRotation;
  /** Everything the adapter has persisted, as text, to look for leaked plaintext. */
  readonly storedText: () => Promise<string>;
  readonly cleanup: () => Promise<void>;
};
export type SecretVaultFactory = (keyring: Keyring) => Promise<SecretVaultHarness>;

const keyA = { id: 'master-a', key: randomBytes(32) };
const keyB = { id: 'master-b', key: randomBytes(32) };
const keyC = { id: 'master-c', key: randomBytes(32) };

const flipFirstByte = (base64: string): string => {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = (bytes[0] as number) ^ 0x01;
  return bytes.toString('base64');
};

const textForms = (plaintext: string): string[] => {
  const bytes = Buffer.from(plaintext, 'utf8');
  return [plaintext, bytes.toString('base64'), bytes.toString('hex')];
};

export const secretVaultContract = (name: string, make: SecretVaultFactory): void =>
  describe(`SecretVault contract: ${name}`, () => {
    let harness: SecretVaultHarness;
    let vault: SecretVault;
    beforeEach(async () => {
      harness = await make(createKeyring([keyA]));
      vault = harness.subject;
    });
    afterEach(async () => harness.cleanup());

    it('opens what it sealed, with the same context', async () => {
      const sealed = await vault.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'enrollment-1');
      expect(Object.keys(sealed).sort()).toEqual(['ciphertext', 'iv', 'key_id', 'tag']);
      expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
      expect(Buffer.from(sealed.tag, 'base64')).toHaveLength(16);
      expect(await vault.open(sealed, 'enrollment-1')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    });

    it('round-trips unicode and the empty string', async () => {
      for (const plaintext of ['ünïcödé ✓ 🔐 日本語 +33 6 12 34 56 78', '']) {
        expect(await vault.open(await vault.seal(plaintext, 'ctx'), 'ctx')).toBe(plaintext);
      }
    });

    it('binds the context: opening with another context fails loudly', async () => {
      const sealed = await vault.seal('secret', 'account-1');
      await expect(vault.open(sealed, 'account-2')).rejects.toThrow();
    });

    it.each<[string, (s: SealedSecret) => SealedSecret]>([
      ['ciphertext', (s) => ({ ...s, ciphertext: flipFirstByte(s.ciphertext) })],
      ['tag', (s) => ({ ...s, tag: flipFirstByte(s.tag) })],
      ['iv', (s) => ({ ...s, iv: flipFirstByte(s.iv) })],
      ['truncated tag', (s) => ({ ...s, tag: Buffer.from(s.tag, 'base64').subarray(0, 4).toString('base64') })],
    ])('detects a modified %s', async (_, tamper) => {
      const sealed = await vault.seal('a long enough secret value', 'ctx');
      await expect(vault.open(tamper(sealed), 'ctx')).rejects.toThrow();
    });

    it('refuses a record moved under another record\'s data key', async () => {
      const one = await vault.seal('first secret', 'ctx');
      const two = await vault.seal('other secret', 'ctx');
      await expect(vault.open({ ...one, key_id: two.key_id }, 'ctx')).rejects.toThrow();
    });

    it('returns null once the data key is destroyed, for good, leaving other secrets intact', async () => {
      const doomed = await vault.seal('forget me', 'ctx');
      const kept = await vault.seal('keep me', 'ctx');
      await vault.destroy(doomed.key_id);
      expect(await vault.open(doomed, 'ctx')).toBeNull();
      expect(await (await harness.reopen(createKeyring([keyA]))).open(doomed, 'ctx')).toBeNull();
      expect(await vault.open(kept, 'ctx')).toBe('keep me');
      await expect(vault.destroy(doomed.key_id)).resolves.toBeUndefined();
    });

    it('returns null for an unknown data key', async () => {
      const sealed = await vault.seal('x', 'ctx');
      expect(await vault.open({ ...sealed, key_id: 'never-issued' }, 'ctx')).toBeNull();
    });

    it('uses a fresh data key and iv per seal: sealing the same plaintext twice differs', async () => {
      const one = await vault.seal('same', 'ctx');
      const two = await vault.seal('same', 'ctx');
      expect(one.key_id).not.toBe(two.key_id);
      expect(one.iv).not.toBe(two.iv);
      expect(one.ciphertext).not.toBe(two.ciphertext);
    });

    it('never stores or returns the plaintext', async () => {
      const plaintext = 'PLAINTEXT-SEED-4F3A9C2B7E1D';
      const sealed = await vault.seal(plaintext, 'ctx');
      const everything = `${JSON.stringify(sealed)}\n${await harness.storedText()}`;
      expect(everything).toContain(sealed.key_id);
      for (const form of textForms(plaintext)) expect(everything).not.toContain(form);
    });

    it('keeps opening old secrets after a master key rotation, and seals new ones under the new key', async () => {
      const old = await vault.seal('sealed under A', 'ctx');
      const rotated = await harness.reopen(createKeyring([keyB, keyA]));
      expect(await rotated.open(old, 'ctx')).toBe('sealed under A');

      const fresh = await rotated.seal('sealed under B', 'ctx');
      expect(await rotated.open(fresh, 'ctx')).toBe('sealed under B');
      // Proof that B wrapped it: a keyring without B cannot open it, one with only B can.
      await expect((await harness.reopen(createKeyring([keyA]))).open(fresh, 'ctx')).rejects.toThrow();
      expect(await (await harness.reopen(createKeyring([keyB]))).open(fresh, 'ctx')).toBe('sealed under B');
    });

    it('counts data keys by the master key that wraps them', async () => {
      expect(await harness.rotation(createKeyring([keyA])).census()).toEqual({});
      await vault.seal('one', 'ctx');
      await vault.seal('two', 'ctx');
      await (await harness.reopen(createKeyring([keyB, keyA]))).seal('three', 'ctx');
      expect(await harness.rotation(createKeyring([keyA])).census()).toEqual({ [keyA.id]: 2, [keyB.id]: 1 });
    });

    it('re-wraps every data key under the current master key, page by page, so the old one can be retired', async () => {
      const secrets = Array.from({ length: 7 }, (_, i) => `secret ${i}`);
      const underA = await Promise.all(secrets.slice(0, 5).map((secret) => vault.seal(secret, 'ctx')));
      const underB = await Promise.all(secrets.slice(5).map(async (secret) => (await harness.reopen(createKeyring([keyB, keyA]))).seal(secret, 'ctx')));
      const destroyed = await vault.seal('gone', 'ctx');
      await vault.destroy(destroyed.key_id);

      const rotation = harness.rotation(createKeyring([keyC, keyB, keyA]), 2);
      expect(await rotation.rewrap()).toEqual({ rewrapped: { [keyA.id]: 5, [keyB.id]: 2 }, unreadable: [], erased: true });
      expect(await rotation.census()).toEqual({ [keyC.id]: 7 });
      // Only C is needed now: A and B are retired. What was destroyed stays destroyed.
      const retired = await harness.reopen(createKeyring([keyC]));
      expect(await Promise.all([...underA, ...underB].map((sealed) => retired.open(sealed, 'ctx')))).toEqual(secrets);
      expect(await retired.open(destroyed, 'ctx')).toBeNull();
      // Nothing left to move: a second run changes nothing.
      expect(await rotation.rewrap()).toEqual({ rewrapped: {}, unreadable: [], erased: true });
    });

    it('leaves where it is, and names, a data key that does not unwrap, moving the rest', async () => {
      const kept = await vault.seal('under A', 'ctx');
      // Wrapped under another key given A's id (as by a new MASTER_KEY under an old id): lost already.
      const impostor = await (await harness.reopen(createKeyring([{ id: keyA.id, key: randomBytes(32) }]))).seal('lost', 'ctx');
      const rotation = harness.rotation(createKeyring([keyB, keyA]));
      expect(await rotation.rewrap()).toEqual({ rewrapped: { [keyA.id]: 1 }, unreadable: [impostor.key_id], erased: true });
      expect(await rotation.census()).toEqual({ [keyA.id]: 1, [keyB.id]: 1 });
      expect(await (await harness.reopen(createKeyring([keyB]))).open(kept, 'ctx')).toBe('under A');
    });

    it('refuses to re-wrap, changing nothing, when the key configured under an old id is not the one its data keys were wrapped with', async () => {
      const kept = await vault.seal('under A', 'ctx');
      await vault.seal('also under A', 'ctx');
      const impostorA = { id: keyA.id, key: randomBytes(32) };
      await expect(harness.rotation(createKeyring([keyB, impostorA])).rewrap()).rejects.toThrow(/master key configured as "master-a" unwraps none of the 2 data keys tried/);
      expect(await harness.rotation(createKeyring([keyB, keyA])).census()).toEqual({ [keyA.id]: 2 });
      expect(await vault.open(kept, 'ctx')).toBe('under A');
    });

    it('refuses to re-wrap, changing nothing, while a data key is wrapped under a master key not configured', async () => {
      const kept = await vault.seal('under A', 'ctx');
      await (await harness.reopen(createKeyring([keyB, keyA]))).seal('under B', 'ctx');
      await expect(harness.rotation(createKeyring([keyC, keyB])).rewrap()).rejects.toThrow(/master key "master-a", not configured: list it in PREVIOUS_MASTER_KEYS/);
      expect(await harness.rotation(createKeyring([keyC])).census()).toEqual({ [keyA.id]: 1, [keyB.id]: 1 });
      expect(await vault.open(kept, 'ctx')).toBe('under A');
    });
  });
