/**
 * Retiring a master key on the real service, embedded and on PostgreSQL: data written under k1;
 * the service moved to k2 with k1 kept as a previous key; `keys rewrap` re-wraps every data key
 * under k2 and seals the log; then k1 is removed, and the service still opens what k1 had
 * wrapped (a TOTP seed, the hash root behind API keys and recovery codes), and `audit verify`
 * still accepts the log, whose seals under k1 the re-wrap's seal vouches for.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { enrollTotp, newApp, newOperator, totpAt } from '../../support/flows.js';
import { createClient } from '../../support/http-client.js';
import { compileService, processScratch, runCommand, startServiceProcess } from '../../support/service-process.js';

const scratch = processScratch();

const retireOldKey = async (base: Record<string, string>) => {
  const [k1, k2] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
  const before = { ...base, MASTER_KEY: k1, MASTER_KEY_ID: 'k1' };
  const rotated = { ...base, MASTER_KEY: k2, MASTER_KEY_ID: 'k2', PREVIOUS_MASTER_KEYS: `k1:${k1}` };
  const retired = { ...base, MASTER_KEY: k2, MASTER_KEY_ID: 'k2' };

  const first = await startServiceProcess({ env: { ...before, LOG_SEAL_INTERVAL_S: '1', LOG_LEVEL: 'debug' } });
  const client = createClient(first.url);
  const operator = await newOperator(client);
  const app = await newApp(client, operator.token);
  const { secret, recoveryCodes } = await enrollTotp(client, app.apiKey, 'alice', () => new Date());
  await first.waitForLine((line) => line.includes('"msg":"log sealed"'), 10_000);
  expect(await first.stop()).toEqual({ code: 0, signal: null });

  // Without k1 the service cannot open what k1 wrapped: it does not start.
  const refused = await startServiceProcess({ env: retired, wait: false });
  expect((await refused.waitForExit(30_000)).code).toBe(1);
  expect(refused.lines.join('\n')).toMatch(/Master key \\"k1\\" is not in the keyring/);

  const status = await runCommand(rotated, 'keys', 'status');
  expect(status.code).toBe(0);
  const held = (JSON.parse(status.stdout) as { current: string; data_keys: Record<string, number> });
  expect(held.current).toBe('k2');
  expect(Object.keys(held.data_keys)).toEqual(['k1']);

  const rewrap = await runCommand(rotated, 'keys', 'rewrap');
  expect(rewrap).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(rewrap.stdout)).toEqual({ current: 'k2', rewrapped: held.data_keys, unreadable: [], erased: true, data_keys: { k2: held.data_keys['k1'] }, sealed: expect.objectContaining({ sealed: true }) });
  // Run again: nothing left to move, and it says so with 0.
  expect(JSON.parse((await runCommand(rotated, 'keys', 'rewrap')).stdout)).toMatchObject({ rewrapped: {}, data_keys: { k2: held.data_keys['k1'] } });

  const after = await startServiceProcess({ env: { ...retired, LOG_SEAL_INTERVAL_S: '1', LOG_LEVEL: 'debug' } });
  const again = createClient(after.url);
  const next = totpAt(secret, new Date(Date.now() + 30_000));
  expect((await again.post('/api/code/verify', { apiKey: app.apiKey, body: { username: 'alice', otp: next } })).status).toBe(200);
  expect((await again.post('/api/code/verify', { apiKey: app.apiKey, body: { username: 'alice', otp: recoveryCodes[0] } })).status).toBe(200);
  await after.waitForLine((line) => line.includes('"msg":"log sealed"'), 10_000);
  // The re-wrap's sealer left its pointer tagged as the service tags it: taken, not ignored.
  expect(after.lines.filter((line) => line.includes('snapshot ignored'))).toEqual([]);
  expect(await after.stop()).toEqual({ code: 0, signal: null });

  const audited = await runCommand(retired, 'audit', 'verify');
  const report = JSON.parse(audited.stdout) as { ok: boolean; retired_key_seals: number; problems: unknown[] };
  expect(audited.code).toBe(0);
  expect(report).toMatchObject({ ok: true, problems: [] });
  expect(report.retired_key_seals).toBeGreaterThanOrEqual(1);
};

describe('keys: retiring a master key on the real service', () => {
  beforeAll(async () => {
    await compileService(); // once, before the first test's clock starts
  }, 180_000);
  afterAll(() => scratch.cleanUp());

  it('on the embedded default', async () => {
    const dir = scratch.dir('keys');
    await retireOldKey({ DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl'), JWT_SECRET: randomBytes(48).toString('base64') });
  }, 120_000);

  it('on PostgreSQL', async () => {
    const schema = await scratch.schema();
    const dir = scratch.dir('keys-pg');
    await retireOldKey({ DATABASE_URL: schema.url, DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl'), JWT_SECRET: randomBytes(48).toString('base64') });
  }, 120_000);

  it('says so with code 2 on bad usage and 3 when it cannot run', async () => {
    const dir = scratch.dir('keys-none');
    const env = { DATA_DIR: dir.path, MASTER_KEY: randomBytes(32).toString('base64') };
    expect((await runCommand(env, 'keys', 'spin')).code).toBe(2);
    const missing = await runCommand(env, 'keys', 'status');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^keys: no embedded log at /);
    // A log without its data keys beside it (another DATA_DIR for keys.sqlite): not "nothing to move".
    const service = await startServiceProcess({ env });
    expect(await service.stop()).toEqual({ code: 0, signal: null });
    rmSync(join(dir.path, 'keys.sqlite'));
    for (const action of ['status', 'rewrap']) {
      const elsewhere = await runCommand(env, 'keys', action);
      expect(elsewhere).toMatchObject({ code: 3, stderr: expect.stringMatching(/no data keys in this store/) });
    }
  });
});
