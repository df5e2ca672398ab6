import { randomBytes } from 'node:crypto';
import type { EventStore, SecretVault } from '../application/ports.js';
import { WrongExpectedRevision } from '../application/ports.js';
import type { SealedSecret } from '../domain/shared/sealed.js';
import { createKeyring, type Keyring } from './crypto/keyring.js';

const STREAM = 'system-hash-root';

/**
 * The root of every keyed hash (stream ids, API-key and code hashes) must never change, while
 * master keys must be rotatable. So the root is a random key created once, sealed by the vault
 * (whose data keys the master key wraps) and recorded in the log. Rotating the master key never
 * rehashes: the root's data key stays wrapped under the master key of the first start, which
 * must stay configured (PREVIOUS_MASTER_KEYS) until `keys rewrap` wraps it, with every other
 * data key, under the current one.
 */
export const loadHashRoot = async (store: EventStore, vault: SecretVault): Promise<Keyring> => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await readHashRoot(store, vault);
    if (existing) return existing;
    const sealed = await vault.seal(randomBytes(32).toString('base64'), STREAM);
    try {
      await store.append(STREAM, [{ type: 'HashRootCreated', data: { sealed } }], 'no_stream');
    } catch (error) {
      // Another process created it first: use theirs.
      if (!(error instanceof WrongExpectedRevision)) throw error;
    }
  }
  throw new Error('Could not load or create the hash root key');
};

/** The hash root the log holds, without creating one (commands that must not start a log afresh). */
export const readHashRoot = async (store: EventStore, vault: SecretVault): Promise<Keyring | undefined> => {
  const [existing] = await store.readStream(STREAM);
  if (!existing) return undefined;
  const root = await vault.open((existing.data as { sealed: SealedSecret }).sealed, STREAM);
  if (root === null) throw new Error('The hash root key was destroyed; keyed hashes cannot be computed');
  return createKeyring([{ id: 'hash-root', key: Buffer.from(root, 'base64') }]);
};
