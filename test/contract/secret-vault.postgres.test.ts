import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createKeyring } from '../../src/infrastructure/crypto/keyring.js';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createPostgresKeyRotation, createPostgresVault, vaultMigrations } from '../../src/infrastructure/postgres/vault.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { secretVaultContract } from './secret-vault.contract.js';

const openSchema = async (): Promise<{ schema: TestSchema; pool: pg.Pool }> => {
  const schema = await createTestSchema();
  const pool = new pg.Pool({ connectionString: schema.url, max: 3 });
  await migrate(pool, vaultMigrations);
  return { schema, pool };
};

secretVaultContract('postgres', async (keyring) => {
  const { schema, pool } = await openSchema();
  return {
    subject: createPostgresVault({ pool, keyring }),
    reopen: async (other) => createPostgresVault({ pool, keyring: other }),
    rotation: (other, pageSize) => createPostgresKeyRotation({ pool, keyring: other, ...(pageSize ? { pageSize } : {}) }),
    storedText: async () => JSON.stringify((await pool.query('SELECT * FROM data_keys')).rows),
    cleanup: async () => {
      await pool.end();
      await schema.drop();
    },
  };
});

describe('postgres vault storage', () => {
  const keyring = createKeyring([{ id: 'k1', key: randomBytes(32) }]);
  let schema: TestSchema;
  let pool: pg.Pool;
  beforeAll(async () => {
    ({ schema, pool } = await openSchema());
  });
  afterAll(async () => {
    await pool.end();
    await schema.drop();
  });

  it('stores one wrapped data key row per seal, naming its master key, and deletes it on destroy', async () => {
    const now = new Date('2030-01-02T03:04:05.000Z');
    const vault = createPostgresVault({ pool, keyring, clock: () => now });
    const sealed = await vault.seal('secret', 'ctx');
    const { rows } = await pool.query('SELECT * FROM data_keys WHERE key_id = $1', [sealed.key_id]);
    expect(rows).toEqual([{ key_id: sealed.key_id, master_key_id: 'k1', wrapped: expect.any(String), created_at: now }]);
    expect(Buffer.from(rows[0].wrapped, 'base64')).toHaveLength(12 + 16 + 32);
    await vault.destroy(sealed.key_id);
    expect((await pool.query('SELECT 1 FROM data_keys WHERE key_id = $1', [sealed.key_id])).rowCount).toBe(0);
  });

  it('binds a wrapped key to its id: a copy under another id does not open', async () => {
    const vault = createPostgresVault({ pool, keyring });
    const sealed = await vault.seal('shred me', 'ctx');
    await pool.query(`INSERT INTO data_keys SELECT 'resurrected', master_key_id, wrapped, created_at FROM data_keys WHERE key_id = $1`, [sealed.key_id]);
    await vault.destroy(sealed.key_id);
    await expect(vault.open({ ...sealed, key_id: 'resurrected' }, 'ctx')).rejects.toThrow(/data key resurrected under master key "[^"]+": authentication failed \(the key configured under that id is not the one it was wrapped with/);
  });

  it('shares keys between processes: a vault on another pool opens what this one sealed', async () => {
    const other = new pg.Pool({ connectionString: schema.url, max: 1 });
    try {
      const sealed = await createPostgresVault({ pool, keyring }).seal('survives', 'ctx');
      expect(await createPostgresVault({ pool: other, keyring }).open(sealed, 'ctx')).toBe('survives');
    } finally {
      await other.end();
    }
  });

  it('groups concurrent seals and concurrent destroys into few statements, each key answered as alone', async () => {
    let writes = 0;
    const counting = Object.create(pool) as pg.Pool;
    counting.query = ((...args: Parameters<pg.Pool['query']>) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text;
      if (/^(INSERT|WITH gone)/.test(text)) writes += 1;
      return (pool.query as (...a: unknown[]) => unknown)(...args);
    }) as pg.Pool['query'];
    const vault = createPostgresVault({ pool: counting, keyring });
    const secrets = Array.from({ length: 40 }, (_, i) => `secret ${i}`);
    const sealed = await Promise.all(secrets.map((secret, i) => vault.seal(secret, `ctx-${i}`)));
    expect(writes).toBeLessThan(10);
    expect(await Promise.all(sealed.map((s, i) => vault.open(s, `ctx-${i}`)))).toEqual(secrets);
    writes = 0;
    // Every other key destroyed, one of them twice at once: the rest still open.
    const doomed = sealed.filter((_, i) => i % 2 === 0);
    await Promise.all([...doomed.map((s) => vault.destroy(s.key_id)), vault.destroy(doomed[0]!.key_id)]);
    expect(writes).toBeLessThan(10);
    const opened = await Promise.all(sealed.map((s, i) => vault.open(s, `ctx-${i}`)));
    expect(opened).toEqual(secrets.map((secret, i) => (i % 2 === 0 ? null : secret)));
    const left = await pool.query('SELECT count(*)::int AS n FROM data_keys WHERE key_id = ANY($1)', [sealed.map((s) => s.key_id)]);
    expect(left.rows[0].n).toBe(20);
    await vault.close();
  });

  describe('across processes, with destroys heard over LISTEN', () => {
    const eventually = async (check: () => Promise<boolean>, what: string): Promise<void> => {
      for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) if (await check()) return;
      throw new Error(`not within 5 s: ${what}`);
    };
    /** Until `vault` answers from its cache: a key deleted behind its back (no notification) still opens. */
    const untilCaching = (vault: ReturnType<typeof createPostgresVault>) =>
      eventually(async () => {
        const sealed = await vault.seal('probe', 'ctx');
        await vault.open(sealed, 'ctx');
        await pool.query('DELETE FROM data_keys WHERE key_id = $1', [sealed.key_id]);
        return (await vault.open(sealed, 'ctx')) === 'probe';
      }, 'the vault caches');

    it('a key destroyed in one process stops opening in another that had it cached', async () => {
      const a = createPostgresVault({ pool, keyring, listenConnectionString: schema.url });
      const b = createPostgresVault({ pool, keyring, listenConnectionString: schema.url });
      try {
        await untilCaching(a);
        const sealed = await b.seal('shred me', 'ctx');
        expect(await a.open(sealed, 'ctx')).toBe('shred me'); // now cached in a
        await b.destroy(sealed.key_id);
        await eventually(async () => (await a.open(sealed, 'ctx')) === null, 'a forgets the destroyed key');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('a key re-wrapped under a new master key is read again by a process that had its old row cached', async () => {
      const rotated = createKeyring([{ id: 'k2', key: randomBytes(32) }, ...[keyring.current]]);
      const a = createPostgresVault({ pool, keyring: rotated, listenConnectionString: schema.url });
      try {
        await untilCaching(a);
        const sealed = await createPostgresVault({ pool, keyring }).seal('moved', 'ctx');
        expect(await a.open(sealed, 'ctx')).toBe('moved'); // its row under k1, now cached in a
        await createPostgresKeyRotation({ pool, keyring: rotated }).rewrap();
        const { rows } = await pool.query('DELETE FROM data_keys WHERE key_id = $1 RETURNING master_key_id', [sealed.key_id]);
        expect(rows).toEqual([{ master_key_id: 'k2' }]);
        // Deleted behind its back (no notification of its own): only the re-wrap's made a forget it.
        await eventually(async () => (await a.open(sealed, 'ctx')) === null, 'a forgets the row it had cached');
      } finally {
        await a.close();
      }
    });

    it('without a listening connection, every open reads the table', async () => {
      const vault = createPostgresVault({ pool, keyring });
      const sealed = await vault.seal('gone', 'ctx');
      expect(await vault.open(sealed, 'ctx')).toBe('gone');
      await pool.query('DELETE FROM data_keys WHERE key_id = $1', [sealed.key_id]);
      expect(await vault.open(sealed, 'ctx')).toBeNull();
    });

    /** A vault listening through a proxy the test can break; a key sealed and opened (so cached) through it. */
    const breakable = async (heartbeat?: { everyMs: number; timeoutMs: number }) => {
      const target = new URL(schema.url);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const through = new URL(schema.url);
      through.port = String(proxy.port);
      const vault = createPostgresVault({ pool, keyring, listenConnectionString: through.toString(), ...(heartbeat ? { heartbeat } : {}) });
      await untilCaching(vault);
      const sealed = await vault.seal('kept?', 'ctx');
      expect(await vault.open(sealed, 'ctx')).toBe('kept?');
      const close = async () => {
        await vault.close();
        await proxy.close();
      };
      return { proxy, vault, sealed, close };
    };
    const deleteBehindItsBack = (keyId: string) => pool.query('DELETE FROM data_keys WHERE key_id = $1', [keyId]);

    it('a process that cannot hear destroys reads the table on every open, and caches again once it can', async () => {
      const { proxy, vault, sealed, close } = await breakable();
      try {
        proxy.cut(); // the listening connection drops and cannot come back
        await deleteBehindItsBack(sealed.key_id); // a destroy nobody heard
        await eventually(async () => (await vault.open(sealed, 'ctx')) === null, 'the cache is dropped with the connection');
        const later = await vault.seal('not cached', 'ctx');
        await vault.open(later, 'ctx');
        await deleteBehindItsBack(later.key_id);
        expect(await vault.open(later, 'ctx')).toBeNull(); // read through while deaf
        proxy.restore();
        await untilCaching(vault);
      } finally {
        await close();
      }
    });

    it('a process whose listening connection goes silent stops trusting its cache within a heartbeat', async () => {
      const { proxy, vault, sealed, close } = await breakable({ everyMs: 100, timeoutMs: 200 });
      try {
        proxy.stall(); // half-open: no 'end' ever comes, and notifications stop arriving
        await deleteBehindItsBack(sealed.key_id);
        await eventually(async () => (await vault.open(sealed, 'ctx')) === null, 'the cache is dropped when the heartbeat goes unanswered');
        proxy.restore();
        await untilCaching(vault);
      } finally {
        await close();
      }
    });
  });

  describe('what a re-wrap leaves of the old wrappings', () => {
    let own: TestSchema;
    let ownPool: pg.Pool;
    beforeAll(async () => {
      // A schema of its own: the other tests leave keys under their own master keys.
      ({ schema: own, pool: ownPool } = await openSchema());
      // pageinspect reads the pages as stored, dead row versions included (a superuser's extension: the test database's).
      await ownPool.query('CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public').catch(async (error: unknown) => {
        // Two suites creating it at once: one wins, the other finds it made.
        if ((await ownPool.query("SELECT 1 FROM pg_extension WHERE extname = 'pageinspect'")).rowCount !== 1) throw error;
      });
    });
    afterAll(async () => {
      await ownPool.end();
      await own.drop();
    });

    /** Every row version the table's pages hold, live or dead, as text. */
    const rowVersions = async (): Promise<string> => {
      const { rows } = await ownPool.query<{ n: number }>("SELECT (pg_relation_size('data_keys') / current_setting('block_size')::int)::int AS n");
      const texts: string[] = [];
      for (let page = 0; page < rows[0]!.n; page++) {
        const items = await ownPool.query<{ t_data: Buffer | null }>('SELECT t_data FROM public.heap_page_items(public.get_raw_page($1, $2))', ['data_keys', page]);
        for (const item of items.rows) if (item.t_data) texts.push(item.t_data.toString('latin1'));
      }
      return texts.join('\n');
    };

    it('holds no row version of an old wrapping or a destroyed key once re-wrapped, over many pages', async () => {
      const vault = createPostgresVault({ pool: ownPool, keyring });
      await Promise.all(Array.from({ length: 300 }, (_, i) => vault.seal(`kept ${i}`, 'ctx')));
      const shredded = await vault.seal('shredded', 'ctx');
      const before = (await ownPool.query<{ key_id: string; wrapped: string }>('SELECT key_id, wrapped FROM data_keys')).rows;
      await vault.destroy(shredded.key_id);
      await vault.close();
      const stored = await rowVersions();
      // The control: before the re-wrap the table holds every version, the destroyed one included.
      expect(before.every((row) => stored.includes(row.wrapped))).toBe(true);
      expect(Number((await ownPool.query<{ n: string }>("SELECT pg_relation_size('data_keys') / current_setting('block_size')::int AS n")).rows[0]!.n)).toBeGreaterThan(3);
      const outcome = await createPostgresKeyRotation({ pool: ownPool, keyring: createKeyring([{ id: 'prod-2027-01', key: randomBytes(32) }, keyring.current]) }).rewrap();
      expect(outcome.erased).toBe(true);
      const after = await rowVersions();
      expect(before.filter((row) => after.includes(row.wrapped)).map((row) => row.key_id)).toEqual([]);
      const now = (await ownPool.query<{ wrapped: string }>('SELECT wrapped FROM data_keys')).rows;
      expect(now).toHaveLength(300);
      expect(now.every((row) => after.includes(row.wrapped))).toBe(true);
    });

    it("gives the pooled connection back with its own statement timeout, not the server's default", async () => {
      const { schema: other, pool: owner } = await openSchema();
      // One connection, set up as the service's pools set theirs up.
      const serving = new pg.Pool({ connectionString: other.url, max: 1 });
      serving.on('connect', (client) => void client.query('SET statement_timeout = 12345'));
      try {
        const vault = createPostgresVault({ pool: owner, keyring });
        await vault.seal('moved', 'ctx');
        await vault.close();
        const outcome = await createPostgresKeyRotation({ pool: serving, keyring: createKeyring([{ id: 'k2', key: randomBytes(32) }, keyring.current]) }).rewrap();
        expect(outcome).toEqual({ rewrapped: { k1: 1 }, unreadable: [], erased: true });
        expect((await serving.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout).toBe('12345ms');
      } finally {
        await serving.end();
        await owner.end();
        await other.drop();
      }
    });

    it('says it could not erase, having moved every key, when the database user does not own the table', async () => {
      const { schema: other, pool: owner } = await openSchema();
      const role = `otp_not_owner_${randomBytes(4).toString('hex')}`;
      try {
        const vault = createPostgresVault({ pool: owner, keyring });
        const sealed = await vault.seal('moved by a user that does not own data_keys', 'ctx');
        await vault.close();
        await owner.query(`CREATE ROLE ${role} LOGIN`);
        await owner.query(`GRANT USAGE ON SCHEMA ${other.schema} TO ${role}; GRANT SELECT, UPDATE ON data_keys TO ${role}`);
        const url = new URL(other.url);
        url.username = role;
        const asRole = new pg.Pool({ connectionString: url.toString(), max: 2 });
        const next = { id: 'k2', key: randomBytes(32) };
        try {
          const outcome = await createPostgresKeyRotation({ pool: asRole, keyring: createKeyring([next, keyring.current]) }).rewrap();
          expect(outcome).toEqual({ rewrapped: { k1: 1 }, unreadable: [], erased: false });
          expect(await createPostgresVault({ pool: owner, keyring: createKeyring([next]) }).open(sealed, 'ctx')).toBe('moved by a user that does not own data_keys');
        } finally {
          await asRole.end();
        }
      } finally {
        await owner.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
        await owner.end();
        await other.drop();
      }
    });
  });

  it('rejects seal when the database is unreachable', async () => {
    const broken = new pg.Pool({ connectionString: schema.url, max: 1 });
    await broken.end();
    await expect(createPostgresVault({ pool: broken, keyring }).seal('lost', 'ctx')).rejects.toThrow();
  });
});
