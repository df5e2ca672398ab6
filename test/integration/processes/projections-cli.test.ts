/**
 * `projections list | rebuild [name...]` as an operator runs it: from the compiled build, with
 * the database URL alone (it uses no key), on PostgreSQL and on the embedded default; a name it
 * does not know is a usage error naming the known ones, not a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { projections } from '../../../src/application/projections/index.js';
import { migrate } from '../../../src/infrastructure/postgres/migrate.js';
import { readModelMigrations } from '../../../src/infrastructure/postgres/read-models.js';
import { createTestSchema, type TestSchema } from '../../support/postgres.js';
import { compileService, tempDir } from '../../support/service-process.js';

let compiled: string;
let schema: TestSchema;
const dir = tempDir('projections-cli');

const run = async (env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(compiled, 'interfaces', 'main.js'), 'projections', ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
};

describe('the projections command', () => {
  beforeAll(async () => {
    [compiled, schema] = await Promise.all([compileService(), createTestSchema()]);
  }, 120_000);
  afterAll(async () => {
    await schema?.drop();
    dir.remove();
  });

  it('lists every projection with its collections', async () => {
    const listed = await run({ DATA_DIR: dir.path }, 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n').map((line) => line.split('\t')[0])).toEqual(projections.map((projection) => projection.name));
  });

  it('resets the named projections on PostgreSQL, with DATABASE_URL and no key', async () => {
    const admin = new pg.Pool({ connectionString: schema.url, max: 1 });
    try {
      await migrate(admin, readModelMigrations);
      await admin.query(`INSERT INTO projection_checkpoints (name, position) SELECT unnest($1::text[]), 42 ON CONFLICT (name) DO UPDATE SET position = 42`, [projections.map((p) => p.name)]);
      const rebuilt = await run({ DATABASE_URL: schema.url, DATA_DIR: dir.path }, 'rebuild', 'apps');
      expect(rebuilt).toMatchObject({ code: 0, stdout: 'reset to position 0: apps; workers replay them now\n' });
      const { rows } = await admin.query<{ name: string; position: string }>('SELECT name, position FROM projection_checkpoints ORDER BY name');
      expect(Object.fromEntries(rows.map((row) => [row.name, Number(row.position)]))).toEqual(
        Object.fromEntries(projections.map((p) => [p.name, p.name === 'apps' ? 0 : 42])),
      );
    } finally {
      await admin.end();
    }
  });

  it('refuses a name it does not know with code 2, naming the known ones, and changes nothing', async () => {
    const checkpoints = async () => {
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      try {
        return (await client.query('SELECT name, position FROM projection_checkpoints ORDER BY name')).rows;
      } finally {
        await client.end();
      }
    };
    const before = await checkpoints();
    expect(before.some((row: { position: string }) => row.position !== '0')).toBe(true);
    const refused = await run({ DATABASE_URL: schema.url, DATA_DIR: dir.path }, 'rebuild', 'accounts', 'nosuch');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`unknown projection "nosuch"; known: ${projections.map((p) => p.name).join(', ')}\nusage: projections list | projections rebuild [name...]\n`);
    expect(refused.stdout).toBe('');
    expect(await checkpoints()).toEqual(before);
  });

  it('has nothing to do on the embedded default, and answers a usage line to anything else', async () => {
    expect(await run({ DATA_DIR: dir.path }, 'rebuild')).toMatchObject({ code: 0, stdout: expect.stringMatching(/nothing to do/) });
    expect(await run({ DATA_DIR: dir.path }, 'drop')).toMatchObject({ code: 2, stderr: 'usage: projections list | projections rebuild [name...]\n' });
  });
});
