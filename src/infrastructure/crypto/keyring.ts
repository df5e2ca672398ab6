/**
 * Master keys, held in memory only. The first key is current: new data keys are wrapped
 * under it; older keys stay available by id so secrets sealed before a rotation still open.
 */
import { hkdfSync } from 'node:crypto';

export type MasterKey = { readonly id: string; readonly key: Buffer };

export type Keyring = {
  readonly current: MasterKey;
  readonly byId: (id: string) => MasterKey | undefined;
  /**
   * A 32-byte key derived (HKDF-SHA256) for `label`, from the current master key unless
   * `keyId` pins another one. Deterministic, so HMAC keys survive restarts.
   */
  readonly derive: (label: string, keyId?: string) => Buffer;
};

export const MASTER_KEY_BYTES = 32;
// Fixed salt: domain separation from any other HKDF use of the same master key.
const HKDF_SALT = Buffer.from('otp-verify/keyring/v1', 'utf8');

export const createKeyring = (masterKeys: readonly MasterKey[]): Keyring => {
  const [current] = masterKeys;
  if (!current) throw new Error('Keyring needs at least one master key');
  const keys = new Map<string, MasterKey>();
  for (const { id, key } of masterKeys) {
    if (typeof id !== 'string' || id.length === 0) throw new Error('Every master key needs a non-empty id');
    if (!Buffer.isBuffer(key) || key.length !== MASTER_KEY_BYTES) {
      throw new Error(`Master key "${id}" must be exactly ${MASTER_KEY_BYTES} bytes, got ${Buffer.isBuffer(key) ? key.length : typeof key}`);
    }
    if (keys.has(id)) throw new Error(`Duplicate master key id "${id}"`);
    // Copy so a caller zeroing or reusing its buffer cannot change the keyring.
    keys.set(id, Object.freeze({ id, key: Buffer.from(key) }));
  }
  const currentKey = keys.get(current.id) as MasterKey;

  const derive = (label: string, keyId?: string): Buffer => {
    const master = keyId === undefined ? currentKey : keys.get(keyId);
    if (!master) throw new Error(`Unknown master key id "${keyId}"`);
    return Buffer.from(hkdfSync('sha256', master.key, HKDF_SALT, Buffer.from(label, 'utf8'), 32));
  };

  return Object.freeze({ current: currentKey, byId: (id: string) => keys.get(id), derive });
};
