/**
 * A secret encrypted by the vault (AES-256-GCM under a per-record data key). The domain only
 * carries it around; it never sees plaintext seeds or destinations.
 */
export type SealedSecret = {
  readonly key_id: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
};
