/**
 * Keys for the zero-configuration (embedded) setup: generated once into DATA_DIR, owner-only,
 * and read back on later starts so sealed secrets and issued tokens survive restarts.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../application/ports.js';
import { decodeBase64, masterKeyBytes } from './secret-codecs.js';

export type DevSecrets = {
  readonly masterKey: Buffer;
  readonly jwtPrivateKeyPem: string;
  readonly jwtPublicKeyPem: string;
};

export const masterKeyFile = 'master.key';
export const jwtKeyFile = 'jwt-ed25519.pem';

const isAlreadyExists = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'EEXIST';

/**
 * Creates `path` with `content` unless it exists; returns whether this call created it.
 * Written to a temporary name and hard-linked into place, so a concurrent starter never
 * reads a half-written key and exactly one of them wins.
 */
const createOnce = async (path: string, content: () => string): Promise<boolean> => {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, content(), { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
};

const readMasterKey = async (path: string): Promise<Buffer> => {
  const key = decodeBase64((await readFile(path, 'utf8')).trim());
  if (key?.length !== masterKeyBytes) throw new Error(`${path} does not hold base64 of ${masterKeyBytes} bytes`);
  return key;
};

const readJwtKey = async (path: string): Promise<Pick<DevSecrets, 'jwtPrivateKeyPem' | 'jwtPublicKeyPem'>> => {
  const key = createPrivateKey(await readFile(path, 'utf8'));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} does not hold an Ed25519 private key`);
  return {
    jwtPrivateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    jwtPublicKeyPem: createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString(),
  };
};

export const loadOrCreateDevSecrets = async (dataDir: string, logger: Logger): Promise<DevSecrets> => {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const masterPath = join(dataDir, masterKeyFile);
  const jwtPath = join(dataDir, jwtKeyFile);
  const createdMaster = await createOnce(masterPath, () => randomBytes(masterKeyBytes).toString('base64'));
  const createdJwt = await createOnce(jwtPath, () =>
    generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  );
  const secrets = { masterKey: await readMasterKey(masterPath), ...(await readJwtKey(jwtPath)) };
  logger.warn('Using development keys kept in DATA_DIR; set MASTER_KEY and JWT_PRIVATE_KEY (or JWT_SECRET) in production', {
    data_dir: dataDir,
    files: [masterKeyFile, jwtKeyFile],
    generated_now: createdMaster || createdJwt,
  });
  return secrets;
};

/** The development master key kept in DATA_DIR, for commands that must not create one (`audit`). */
export const readDevMasterKey = async (dataDir: string): Promise<Buffer> => {
  const path = join(dataDir, masterKeyFile);
  try {
    return await readMasterKey(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`No MASTER_KEY set and no development key at ${path}`);
    throw error;
  }
};
