/**
 * DATA_DIR holds the log (argon2 hashes, sealed secrets), the wrapped data keys and, on the
 * embedded default, the master key: the service makes it and its files owner-only whatever the
 * umask, and names in a warning, without changing them, any it finds open to other users.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKeys, startTestServer } from '../support/test-server.js';

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('DATA_DIR permissions on the embedded default', () => {
  const parent = mkdtempSync(join(tmpdir(), 'otp-verify-perms-'));
  const dataDir = join(parent, 'data');
  const keys = newKeys();
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('makes DATA_DIR and every database in it owner-only under a permissive umask', async () => {
    const umask = process.umask(0o022);
    try {
      const server = await startTestServer({ dataDir, keys, backend: 'embedded' });
      await server.stop();
    } finally {
      process.umask(umask);
    }
    expect(modeOf(dataDir)).toBe(0o700);
    const databases = readdirSync(dataDir).filter((name) => /\.sqlite(-wal|-shm)?$/.test(name));
    expect(databases).toEqual(expect.arrayContaining(['events.sqlite', 'keys.sqlite', 'abuse.sqlite']));
    expect(databases.map((name) => [name, modeOf(join(dataDir, name))])).toEqual(databases.map((name) => [name, 0o600]));
  });

  it('names files it finds open to others in a warning at start, and leaves them as they are', async () => {
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'events.sqlite'), 0o644);
    const logs: string[] = [];
    const server = await startTestServer({ dataDir, keys, backend: 'embedded', logs });
    await server.stop();
    const warning = logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => String(entry['msg']).startsWith('files in DATA_DIR are open to other users'));
    expect(warning).toMatchObject({ level: 'warn', files: ['DATA_DIR', 'events.sqlite'] });
    expect([modeOf(dataDir), modeOf(join(dataDir, 'events.sqlite'))]).toEqual([0o755, 0o644]);
  });
});
