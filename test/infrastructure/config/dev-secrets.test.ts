import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFields, Logger } from '../../../src/application/ports.js';
import { jwtKeyFile, loadOrCreateDevSecrets, masterKeyFile } from '../../../src/infrastructure/config/dev-secrets.js';

type Entry = { level: string; message: string; fields?: LogFields };
const recordingLogger = () => {
  const entries: Entry[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      entries.push({ level, message, fields });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, entries };
};

describe('development secrets', () => {
  let root: string;
  let dataDir: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'otp-dev-secrets-'));
    dataDir = join(root, 'data', 'nested');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('generates a 32-byte master key and an Ed25519 key pair into owner-only files', async () => {
    const { logger } = recordingLogger();
    const secrets = await loadOrCreateDevSecrets(dataDir, logger);

    expect(secrets.masterKey).toHaveLength(32);
    expect((await readFile(join(dataDir, masterKeyFile), 'utf8')).trim()).toBe(secrets.masterKey.toString('base64'));
    expect(createPrivateKey(secrets.jwtPrivateKeyPem).asymmetricKeyType).toBe('ed25519');
    const signature = sign(null, Buffer.from('payload'), secrets.jwtPrivateKeyPem);
    expect(verify(null, Buffer.from('payload'), createPublicKey(secrets.jwtPublicKeyPem), signature)).toBe(true);
    for (const file of [masterKeyFile, jwtKeyFile]) {
      expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600);
    }
    expect((await readdir(dataDir)).sort()).toEqual([jwtKeyFile, masterKeyFile].sort());
  });

  it('returns the same keys on later calls, including concurrent first starts', async () => {
    const { logger } = recordingLogger();
    const [a, b] = await Promise.all([loadOrCreateDevSecrets(dataDir, logger), loadOrCreateDevSecrets(dataDir, logger)]);
    const c = await loadOrCreateDevSecrets(dataDir, logger);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('warns that the keys are for development only, without logging them', async () => {
    const { logger, entries } = recordingLogger();
    const secrets = await loadOrCreateDevSecrets(dataDir, logger);
    await loadOrCreateDevSecrets(dataDir, logger);

    expect(entries.map((entry) => [entry.level, entry.fields?.['generated_now']])).toEqual([
      ['warn', true],
      ['warn', false],
    ]);
    expect(entries[0]?.message).toMatch(/development/);
    const logged = JSON.stringify(entries);
    expect(logged).not.toContain(secrets.masterKey.toString('base64'));
    expect(logged).not.toContain(secrets.jwtPrivateKeyPem.split('\n')[1]);
  });

  it('refuses a corrupted master key file rather than replacing it', async () => {
    const { logger } = recordingLogger();
    await loadOrCreateDevSecrets(dataDir, logger);
    await writeFile(join(dataDir, masterKeyFile), 'dG9vIHNob3J0');
    await expect(loadOrCreateDevSecrets(dataDir, logger)).rejects.toThrow(/master\.key does not hold base64 of 32 bytes/);
    expect(await readFile(join(dataDir, masterKeyFile), 'utf8')).toBe('dG9vIHNob3J0');
  });
});
