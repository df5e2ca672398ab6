import { createHmac } from 'node:crypto';
import type { SafeEqual, SealBody, SealSigner } from '../../application/ports.js';
import type { Keyring } from '../crypto/keyring.js';

const LABEL = 'log-seal';

const message = ({ through, count, chain }: SealBody): string => `otp-verify/log-seal/v1\n${through}\n${count}\n${chain}`;

/**
 * HMAC-SHA256 of a seal under a key derived from the current master key, whose id the seal
 * records, so seals made before a rotation still verify while the old key stays configured
 * (PREVIOUS_MASTER_KEYS); once it is retired, a later seal vouches for them (verify-log.ts).
 * Whoever can rewrite the log but lacks the master key cannot re-seal it.
 */
export const createSealSigner = (keyring: Keyring, safeEqual: SafeEqual): SealSigner => {
  const mac = (body: SealBody, keyId: string) => createHmac('sha256', keyring.derive(LABEL, keyId)).update(message(body), 'utf8').digest('hex');
  return {
    sign: (body) => ({ key_id: keyring.current.id, mac: mac(body, keyring.current.id) }),
    verify: (body, keyId, given) => (keyring.byId(keyId) ? typeof given === 'string' && safeEqual(mac(body, keyId), given) : undefined),
  };
};
