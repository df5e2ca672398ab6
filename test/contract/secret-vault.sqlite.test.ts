import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createKeyring } from '../../src/infrastructure/crypto/keyring.js';
import { createSqliteKeyRotation, createSqliteVault } from '../../src/infrastructure/crypto/sqlite-vault.js';
import { secretVaultContract } from './secret-vault.contract.js';

type Row = { key_id: string; master_key_id: string; wrapped: string; created_at: string };

secretVaultContract('sqlite', async (keyring) => {
  const db = new Database(':memory:');
  return {
    subject: createSqliteVault({ db, keyring }),
    reopen: async (other) => createSqliteVault({ db, keyring: other }),
    rotation: (other, pageSize) => createSqliteKeyRotation({ db, keyring: other, ...(pageSize ? { pageSize } : {}) }),
    storedText: async () => JSON.stringify(db.prepare('SELECT * FROM data_keys').all()),
    cleanup: async () => void db.close(),
  };
});

describe('sqlite vault storage', () => {
  const keyring = createKeyring([{ id: 'k1', key: randomBytes(32) }]);
  let db: Database.Database;
  beforeEach(() => {
    db = new Database(':memory:');
  });
  afterEach(() => {
    db.close();
  });

  it('stores one wrapped data key row per seal, naming its master key, and deletes it on destroy', async () => {
    const now = new Date('2030-01-02T03:04:05.000Z');
    const vault = createSqliteVault({ db, keyring, clock: () => now });
    const sealed = await vault.seal('secret', 'ctx');
    const rows = db.prepare<[], Row>('SELECT * FROM data_keys').all();
    expect(rows).toEqual([{ key_id: sealed.key_id, master_key_id: 'k1', wrapped: expect.any(String), created_at: now.toISOString() }]);
    // iv + tag + 32-byte key
    expect(Buffer.from(rows[0]?.wrapped ?? '', 'base64')).toHaveLength(12 + 16 + 32);
    await vault.destroy(sealed.key_id);
    expect(db.prepare('SELECT COUNT(*) AS n FROM data_keys').get()).toEqual({ n: 0 });
  });

  it('detects a tampered wrapped key', async () => {
    const vault = createSqliteVault({ db, keyring });
    const sealed = await vault.seal('secret', 'ctx');
    const row = db.prepare<[string], Row>('SELECT * FROM data_keys WHERE key_id = ?').get(sealed.key_id) as Row;
    const bytes = Buffer.from(row.wrapped, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x80;
    db.prepare('UPDATE data_keys SET wrapped = ? WHERE key_id = ?').run(bytes.toString('base64'), sealed.key_id);
    await expect(vault.open(sealed, 'ctx')).rejects.toThrow(/data key .* authentication failed/);
  });

  it('binds a wrapped key to its id: a copy under another id does not survive destroy', async () => {
    const vault = createSqliteVault({ db, keyring });
    const sealed = await vault.seal('shred me', 'ctx');
    const row = db.prepare<[string], Row>('SELECT * FROM data_keys WHERE key_id = ?').get(sealed.key_id) as Row;
    await vault.destroy(sealed.key_id);
    db.prepare<[Row]>('INSERT INTO data_keys VALUES (@key_id, @master_key_id, @wrapped, @created_at)').run({ ...row, key_id: 'resurrected' });
    await expect(vault.open({ ...sealed, key_id: 'resurrected' }, 'ctx')).rejects.toThrow(/data key resurrected under master key "[^"]+": authentication failed \(the key configured under that id is not the one it was wrapped with/);
  });

  it("leaves in its files no copy of a destroyed data key, nor of a wrapping a re-wrap replaced, once re-wrapped: the retired master key opens nothing from them", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vault-files-'));
    const file = join(dir, 'keys.sqlite');
    const onDisk = new Database(file);
    onDisk.pragma('journal_mode = WAL');
    try {
      const vault = createSqliteVault({ db: onDisk, keyring });
      await Promise.all(Array.from({ length: 20 }, (_, i) => vault.seal(`kept ${i}`, 'ctx')));
      const shredded = await vault.seal('shredded', 'ctx');
      const before = onDisk.prepare<[], Row>('SELECT * FROM data_keys').all();
      await vault.destroy(shredded.key_id);
      // An id of another length: each row is rewritten elsewhere in its page, not over itself.
      await createSqliteKeyRotation({ db: onDisk, keyring: createKeyring([{ id: 'prod-2027-01', key: randomBytes(32) }, keyring.current]) }).rewrap();
      const files = [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('');
      expect(before.filter((row) => files.includes(row.wrapped)).map((row) => row.key_id)).toEqual([]);
      // The control: what the table holds now is found where it was looked for.
      const after = onDisk.prepare<[], Row>('SELECT * FROM data_keys').all();
      expect(after).toHaveLength(20);
      expect(after.every((row) => files.includes(row.wrapped))).toBe(true);
    } finally {
      onDisk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shares the table between vault instances on the same database (restart)', async () => {
    const sealed = await createSqliteVault({ db, keyring }).seal('survives', 'ctx');
    expect(await createSqliteVault({ db, keyring }).open(sealed, 'ctx')).toBe('survives');
  });
});
