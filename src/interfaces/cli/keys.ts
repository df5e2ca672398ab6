/**
 * `keys status`: how many data keys each master key wraps (JSON).
 * `keys rewrap`: re-wraps every data key under the current master key (MASTER_KEY_ID), records
 * it in the log and seals the log, so the keys in PREVIOUS_MASTER_KEYS can be removed. Safe while
 * the service runs, once every process uses the current key. Exit codes: 0 done (every data key
 * under the current key), 1 some are not (sealed meanwhile under an older key, or unreadable),
 * 2 usage, 3 could not run (no data keys in the store, the wrong key under an old id, no such
 * log, a key missing).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeSealLog } from '../../application/audit/seal-log.js';
import { makeRewrapDataKeys } from '../../application/keys/rewrap-data-keys.js';
import type { Logger } from '../../application/ports.js';
import { sha256LogChain } from '../../infrastructure/audit/log-chain.js';
import { createSealSigner } from '../../infrastructure/audit/seal-signer.js';
import { createStorage } from '../../infrastructure/composition/storage.js';
import { usesEmbeddedStorage, type Config } from '../../infrastructure/config/config.js';
import { createKeyedHash, safeEqual } from '../../infrastructure/crypto/keyed-hash.js';
import { readHashRoot } from '../../infrastructure/hash-root.js';
import { sealSnapshots } from '../../infrastructure/snapshots/sealed.js';
import { createKeyring, type MasterKey } from '../../infrastructure/crypto/keyring.js';

const USAGE = 'usage: keys status | keys rewrap\n';

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

export const keysCommand = async (args: readonly string[], config: Config, masterKeys: () => Promise<readonly MasterKey[]>, logger: Logger): Promise<number> => {
  const [action, ...rest] = args;
  if ((action !== 'status' && action !== 'rewrap') || rest.length > 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  const embeddedLog = join(config.dataDir, 'events.sqlite');
  if (usesEmbeddedStorage(config) && !existsSync(embeddedLog)) {
    process.stderr.write(`keys: no embedded log at ${embeddedLog} (DATA_DIR)\n`);
    return 3;
  }
  const clock = () => new Date();
  let storage: Awaited<ReturnType<typeof createStorage>> | undefined;
  try {
    const keyring = createKeyring(await masterKeys());
    storage = await createStorage(
      { dataDir: config.dataDir, ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), ...(config.eventstoreConnectionString ? { eventStoreConnectionString: config.eventstoreConnectionString } : {}), runProjections: false },
      { clock, logger, keyring, projections: [], isDeliveryDue: () => false },
    );
    const current = keyring.current.id;
    const census = await storage.keyRotation.census();
    // A service that has started once holds at least the hash root's data key: none means these
    // are not its stores (another DATA_DIR or DATABASE_URL), and "nothing to move" would mislead.
    if (Object.keys(census).length === 0) {
      process.stderr.write('keys: no data keys in this store: is this the service\'s DATA_DIR / DATABASE_URL?\n');
      return 3;
    }
    if (action === 'status') {
      print({ current, data_keys: census });
      return 0;
    }
    // Opened, not created: it proves the data keys belong to this log, and gives the keyed hash
    // that tags the sealer's pointer as the service tags it.
    const root = await readHashRoot(storage.store, storage.vault);
    if (!root) throw new Error('this log holds no hash root: is this the service\'s log?');
    const snapshots = sealSnapshots(storage.snapshots, { keyedHash: createKeyedHash(root), safeEqual, logger });
    const sealLog = makeSealLog({ log: storage.log, chain: sha256LogChain, signer: createSealSigner(keyring, safeEqual), snapshots });
    const outcome = await makeRewrapDataKeys({ rotation: storage.keyRotation, store: storage.store, sealLog, currentKeyId: current, clock })();
    print({ current, rewrapped: outcome.rewrapped, unreadable: outcome.unreadable, erased: outcome.erased, data_keys: outcome.census, sealed: outcome.sealed });
    if (!outcome.erased)
      process.stderr.write(
        'keys: the store still holds the old wrappings (the database user does not own data_keys, or its VACUUM failed; on SQLite a reader held the WAL): run VACUUM data_keys as its owner, or run again\n',
      );
    const left = Object.keys(outcome.census).filter((id) => id !== current);
    if (left.length === 0) return 0;
    process.stderr.write(
      `keys: data keys are still wrapped under ${left.map((id) => `"${id}"`).join(', ')}: ${outcome.unreadable.length > 0 ? 'some do not unwrap (their rows were altered; what they sealed is lost), or ' : ''}a process still seals under an older key (and cannot open what is now under the current one: give every process the current key); run again once every process uses MASTER_KEY_ID=${current}\n`,
    );
    return 1;
  } catch (error) {
    process.stderr.write(`keys: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  } finally {
    await storage?.close();
  }
};
