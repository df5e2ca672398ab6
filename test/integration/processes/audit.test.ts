/**
 * Tamper evidence on the real service and its `audit` command, on the embedded log and on
 * PostgreSQL: the running service seals its log; `audit verify` accepts the log as the service
 * wrote it, and rejects it once an event was changed behind the service's back (the append-only
 * guard dropped first, as someone with the database's rights could); `audit export` writes
 * lines that `audit verify --file` checks, and that tell when they were edited.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createClient } from '../../support/http-client.js';
import { compileService, deploymentSecrets, processScratch, runCommand, startServiceProcess } from '../../support/service-process.js';

const scratch = processScratch();
const secrets = deploymentSecrets();

type Report = { ok: boolean; events: number; seals: number; sealed_events: number; sealed_through: number; unsealed_events: number; head: number; chain: string; problems: { position: number; problem: string }[] };

const audit = (env: Record<string, string>, ...args: string[]) => runCommand(env, 'audit', ...args);

/** Some traffic, then a clean stop, so the last seal covers it all but the seal itself. */
const runService = async (env: Record<string, string>) => {
  const service = await startServiceProcess({ env: { ...env, LOG_SEAL_INTERVAL_S: '1', LOG_LEVEL: 'debug' } });
  const client = createClient(service.url);
  expect((await client.post('/api/auth/register', { body: { email: 'auditor@example.com', username: 'auditor', password: 'a long enough password' } })).status).toBe(201);
  const login = await client.post('/api/auth/login', { body: { username: 'auditor', password: 'a long enough password' } });
  const token = (login.body as { access_token: string }).access_token;
  expect((await client.post('/api/app', { body: { name: 'Audited' }, token })).status).toBe(201);
  await service.waitForLine((line) => line.includes('"msg":"log sealed"'), 10_000);
  expect((await client.post('/api/auth/login', { body: { username: 'auditor', password: 'wrong password!!' } })).status).toBe(401);
  expect(await service.stop()).toEqual({ code: 0, signal: null });
};

const verifyReport = async (env: Record<string, string>, ...args: string[]) => {
  const result = await audit(env, 'verify', ...args);
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
};

const checkExports = async (env: Record<string, string>, dir: string) => {
  const exported = await audit(env, 'export');
  expect(exported.code).toBe(0);
  const file = join(dir, 'export.jsonl');
  writeFileSync(file, exported.stdout);
  const [header, ...lines] = exported.stdout.trim().split('\n');
  expect(JSON.parse(header!)).toEqual({ format: 'otp-verify-log-export/v1', after: 0, positions: 'dense' });
  const fromFile = await verifyReport(env, '--file', file);
  expect(fromFile).toMatchObject({ code: 0, report: { ok: true, events: lines.length } });
  // No secret travels in an export: the log holds none in plaintext (see no-secrets-at-rest).
  expect(exported.stdout).not.toContain('a long enough password');

  // An export continued with --after verifies appended to the one it continues, not alone.
  const cut = (JSON.parse(lines[2]!) as { position: number }).position;
  const partial = await audit(env, 'export', '--after', String(cut));
  const [partialHeader, ...partialLines] = partial.stdout.trim().split('\n');
  expect(partialLines).toEqual(lines.slice(3));
  writeFileSync(file, `${[header, ...lines.slice(0, 3), partialHeader, ...partialLines].join('\n')}\n`);
  expect(await verifyReport(env, '--file', file)).toMatchObject({ code: 0, report: { ok: true, events: lines.length } });
  writeFileSync(file, partial.stdout);
  const alone = await audit(env, 'verify', '--file', file);
  expect(alone.code).toBe(3);
  expect(alone.stderr).toMatch(/starts after position \d+: verify it appended to the export it continues/);

  const edited = lines.map((line, i) => (i === lines.length - 1 ? line.replace(/"recorded_at":"[^"]+"/, '"recorded_at":"2001-01-01T00:00:00.000Z"') : line));
  writeFileSync(file, `${[header, ...edited].join('\n')}\n`);
  expect(await verifyReport(env, '--file', file)).toMatchObject({ code: 1, report: { ok: false } });
};

describe('audit: tamper evidence on the real service', () => {
  beforeAll(async () => {
    await compileService(); // once, before the first test's clock starts
  }, 180_000);
  afterAll(() => scratch.cleanUp());

  it('on the embedded log: verifies as written, exports, and finds an event changed in the file', async () => {
    const dir = scratch.dir('audit');
    const env = { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl') };
    await runService(env);
    const clean = await verifyReport(env);
    expect(clean.code).toBe(0);
    expect(clean.report).toMatchObject({ ok: true, problems: [] });
    expect(clean.report.seals).toBeGreaterThanOrEqual(2);
    expect(clean.report.unsealed_events).toBe(1);
    await checkExports(env, dir.path);

    const db = new Database(join(dir.path, 'events.sqlite'));
    // The operator's registration: backdated.
    const { position: registered } = db.prepare("SELECT position FROM events WHERE type = 'AccountRegistered'").get() as { position: number };
    expect(() => db.prepare("UPDATE events SET type = 'Other' WHERE position = ?").run(registered)).toThrow(/append-only/);
    db.exec('DROP TRIGGER events_no_update');
    db.prepare("UPDATE events SET data = json_set(data, '$.at', '2001-01-01T00:00:00.000Z') WHERE position = ?").run(registered);
    db.close();
    const tampered = await verifyReport(env, '--expect', `${clean.report.head}:${clean.report.chain}`);
    expect(tampered.code).toBe(1);
    expect(tampered.report.problems.map((p) => p.problem)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^seal does not match the log/), expect.stringMatching(/differs from the one expected here/)]),
    );
    // No seal after the change vouches for the log any more.
    expect(tampered.report.sealed_through).toBeLessThan(registered);
  }, 90_000);

  it('on the embedded log: finds the newest seals removed along with a change only they covered', async () => {
    const dir = scratch.dir('audit-cut');
    const env = { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl') };
    await runService(env);
    // More traffic on a second run, so seals are followed by other events.
    const again = await startServiceProcess({ env: { ...env, LOG_SEAL_INTERVAL_S: '1' } });
    expect((await createClient(again.url).post('/api/auth/login', { body: { username: 'auditor', password: 'wrong password!!' } })).status).toBe(401);
    expect(await again.stop()).toEqual({ code: 0, signal: null });

    const db = new Database(join(dir.path, 'events.sqlite'));
    db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete');
    const seals = db.prepare("SELECT position FROM events WHERE stream = 'system-log-seals' ORDER BY revision").all() as { position: number }[];
    expect(seals.length).toBeGreaterThanOrEqual(3);
    // Every seal but the first removed, and an event only they covered changed.
    db.prepare("DELETE FROM events WHERE stream = 'system-log-seals' AND position > ?").run(seals[0]!.position);
    db.prepare("UPDATE events SET metadata = json_set(metadata, '$.actor', 'someone else') WHERE position = ?").run(seals[0]!.position + 1);
    db.close();
    const report = await verifyReport(env);
    expect(report.code).toBe(1);
    expect(report.report.problems.map((p) => p.problem)).toEqual(expect.arrayContaining([expect.stringMatching(/^positions jump from \d+ to \d+: events are missing$/)]));

    // Restarted on that log, the service does not seal over it.
    const restarted = await startServiceProcess({ env: { ...env, LOG_SEAL_INTERVAL_S: '1' } });
    await restarted.waitForLine((line) => line.includes('"msg":"log sealing failed"') && line.includes('seals were removed'), 10_000);
    await restarted.stop();
  }, 90_000);

  it('on the embedded log: finds an event slipped in below position 1, which the service would read by its stream', async () => {
    const dir = scratch.dir('audit-below');
    const env = { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl') };
    await runService(env);
    expect((await verifyReport(env)).code).toBe(0);
    const db = new Database(join(dir.path, 'events.sqlite'));
    // The next event of the operator's stream, at position -1: last in its stream, so loading
    // the stream takes it, while a read of the log from position 0 never meets it.
    const { stream, revision } = db.prepare("SELECT stream, MAX(revision) AS revision FROM events WHERE stream = (SELECT stream FROM events WHERE type = 'AccountRegistered')").get() as { stream: string; revision: number };
    const slipIn = db.prepare('INSERT INTO events (position, id, stream, revision, type, data, metadata, recorded_at) SELECT ?, ?, ?, ?, type, data, metadata, recorded_at FROM events WHERE stream = ? AND revision = ?');
    slipIn.run(-1, '00000000-0000-4000-8000-000000000001', stream, revision + 1, stream, revision);
    // And one far below, past -2^53 (SQLite takes down to -2^63): a read from the lowest safe
    // integer skipped it, and the service acted on it (a review's proof of concept).
    slipIn.run(-9_000_000_000_000_000_000n, '00000000-0000-4000-8000-000000000002', stream, revision + 2, stream, revision);
    db.close();
    const below = (position: number) => ({ position, problem: `a row at position ${position}, below the first (1): written behind the service's back, which reads it by its stream` });
    const report = await verifyReport(env);
    expect(report.code).toBe(1);
    expect(report.report.problems).toEqual(expect.arrayContaining([below(-9_000_000_000_000_000_000), below(-1)]));
    // An export carries them, and its file's verify reports them as well.
    const exported = await audit(env, 'export');
    const file = join(dir.path, 'export.jsonl');
    writeFileSync(file, exported.stdout);
    expect((await verifyReport(env, '--file', file)).report.problems).toEqual(expect.arrayContaining([below(-9_000_000_000_000_000_000), below(-1)]));

    // A row whose data is no longer JSON: a finding (1) with what was read before it, not "could not run" (3).
    const again = new Database(join(dir.path, 'events.sqlite'));
    again.exec('DROP TRIGGER events_no_update');
    again.prepare("UPDATE events SET data = '{\"broken' WHERE position = 3").run();
    again.close();
    const broken = await verifyReport(env);
    expect(broken.code).toBe(1);
    expect(broken.report.problems).toEqual(expect.arrayContaining([{ position: expect.any(Number), problem: expect.stringMatching(/^a row after position -?\d+ is not valid JSON \(.*\): it was changed by hand, and nothing from there on was read$/) }]));
  }, 90_000);

  it('on the embedded log: reads every row below position 1 however many, where paging from a rounded position skipped some', async () => {
    const dir = scratch.dir('audit-below-many');
    const env = { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl') };
    await runService(env);
    const db = new Database(join(dir.path, 'events.sqlite'));
    const { stream, revision } = db.prepare("SELECT stream, MAX(revision) AS revision FROM events WHERE stream = (SELECT stream FROM events WHERE type = 'AccountRegistered')").get() as { stream: string; revision: number };
    const slipIn = db.prepare('INSERT INTO events (position, id, stream, revision, type, data, metadata, recorded_at) SELECT ?, ?, ?, ?, type, data, metadata, recorded_at FROM events WHERE stream = ? AND revision = ?');
    // 600 fillers just above -2^60, where a JS number steps by 256, and the one that matters among them.
    const base = -(2n ** 60n);
    db.transaction(() => {
      for (let i = 0; i < 600; i++) slipIn.run(base + BigInt(i), `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, `filler-${i}`, 0, stream, revision);
      slipIn.run(base + 300n + 600n, '00000000-0000-4000-8000-999999999999', stream, revision + 1, stream, revision);
    })();
    db.close();
    const report = await verifyReport(env);
    expect(report.code).toBe(1);
    expect(report.report.problems[0]!.problem).toMatch(/^a row at position -\d+, below the first \(1\)/);
    const exported = (await audit(env, 'export')).stdout.trim().split('\n').slice(1).map((line) => JSON.parse(line) as { position: number; stream: string });
    expect(exported.filter((event) => event.position < 1)).toHaveLength(601);
    expect(exported.some((event) => event.stream === stream && event.position < 1)).toBe(true);
  }, 90_000);

  it('says so with code 3 when it cannot run, and creates nothing on the way', async () => {
    const dir = scratch.dir('audit-none');
    const missing = await audit({ DATA_DIR: dir.path }, 'verify');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^otp-verify audit: No embedded log at /);
    expect(readdirSync(dir.path)).toEqual([]);
    const noFile = await audit({ DATA_DIR: dir.path }, 'verify', '--file', join(dir.path, 'nope.jsonl'));
    expect(noFile.code).toBe(3);
    // A configuration that does not decode: could not run (3), not "problems found" (1).
    expect((await audit({ DATA_DIR: dir.path, LOG_LEVEL: 'bogus' }, 'verify')).code).toBe(3);
  });

  it('on PostgreSQL: verifies as written, exports, and finds an event changed behind the trigger', async () => {
    const schema = await scratch.schema();
    const dir = scratch.dir('audit-pg');
    const env = { DATABASE_URL: schema.url, ...secrets, DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl') };
    await runService(env);
    expect(await verifyReport(env)).toMatchObject({ code: 0, report: { ok: true, unsealed_events: 1 } });
    await checkExports(env, dir.path);
    // An auditor needs the database and the master key, not the service's JWT key.
    const { JWT_SECRET: _jwt, ...withoutJwt } = env;
    expect(await verifyReport(withoutJwt)).toMatchObject({ code: 0, report: { ok: true } });
    const { MASTER_KEY: _master, ...withoutMaster } = withoutJwt;
    const noMaster = await audit(withoutMaster, 'verify');
    expect(noMaster.code).toBe(3);
    expect(noMaster.stderr).toMatch(/MASTER_KEY is required/);

    // Another master key cannot vouch for the seals.
    const otherKey = await verifyReport({ ...env, MASTER_KEY: deploymentSecrets().MASTER_KEY });
    expect(otherKey.code).toBe(1);
    expect(otherKey.report.problems[0]!.problem).toBe('seal carries a wrong MAC: it was not made by this service, or MASTER_KEY is not the key the service seals with as "k1"');

    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      await expect(client.query('DELETE FROM events WHERE position = 3')).rejects.toThrow(/append-only/);
      await client.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
      await client.query('DELETE FROM events WHERE position = 3');
      // A row far below the first position, past -2^53, with the check that keeps positions positive dropped.
      await client.query('ALTER TABLE events DROP CONSTRAINT events_position_check');
      for (const [position, revision] of [['-9000000000000000000', 100], ['-9223372036854775808', 101]])
        await client.query(
          'INSERT INTO events (position, id, stream, revision, type, data, metadata, recorded_at) SELECT $1::bigint, gen_random_uuid(), stream, revision + $2, type, data, metadata, recorded_at FROM events WHERE position = 1',
          [position, revision],
        );
    } finally {
      await client.end();
    }
    const tampered = await verifyReport(env);
    expect(tampered.code).toBe(1);
    expect(tampered.report.problems.map((p) => p.problem)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^seal does not match the log/),
        "a row at position -9000000000000000000, below the first (1): written behind the service's back, which reads it by its stream",
        // bigint's very minimum too, which a read from "position > that minimum" skipped (shown rounded).
        expect.stringMatching(/^a row at position -92233720368547\d{5}, below the first \(1\): written behind the service's back, which reads it by its stream$/),
      ]),
    );
  }, 90_000);

  it('answers a usage line and code 2 to anything else', async () => {
    const anchor = (position: number, byte: string) => `${position}:${byte.repeat(64)}`;
    for (const args of [[], ['sign'], ['verify', '--expect', 'nope'], ['export', '--after', '-1'], ['verify', '--bogus', 'x'], ['verify', '--expect', anchor(1, 'a'), '--expect', anchor(2, 'b')]]) {
      const result = await audit({ DATA_DIR: '/nonexistent' }, ...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^usage: audit verify/);
    }
    // Refused before anything was opened or created.
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
