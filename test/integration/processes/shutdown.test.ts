/**
 * How a real service process (embedded storage) stops and holds connections: SIGTERM fails
 * readiness at once and keeps serving for SHUTDOWN_DELAY_MS, then exits 0 once requests in flight
 * are done, or 1 with a line saying so after SHUTDOWN_TIMEOUT_MS; idle keep-alive connections
 * live KEEP_ALIVE_TIMEOUT_S; an error at start is one JSON line and exit code 1; while it starts,
 * liveness answers and everything else is 503.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { codeFromOutbox, newApp, newOperator } from '../../support/flows.js';
import { createClient } from '../../support/http-client.js';
import { startOtlpReceiver } from '../../support/otlp-receiver.js';
import { MIGRATION_LOCK } from '../../../src/infrastructure/postgres/migrate.js';
import { createTestSchema } from '../../support/postgres.js';
import { compileService, deploymentSecrets, processScratch, startServiceProcess } from '../../support/service-process.js';

const scratch = processScratch();
const start = (env: Record<string, string> = {}) => {
  const dir = scratch.dir('shutdown');
  return startServiceProcess({ env: { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl'), ...env } });
};
/** Runs `body` with the environment of a service on a fresh PostgreSQL schema (dropped after). */
const onPostgres = async (body: (env: Record<string, string>) => Promise<void>): Promise<void> => {
  const schema = await createTestSchema();
  try {
    const dir = scratch.dir('shutdown');
    await body({ DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl'), DATABASE_URL: schema.url, ...deploymentSecrets() });
  } finally {
    await schema.drop();
  }
};
const logged = (lines: readonly string[], msg: string) => lines.some((line) => (JSON.parse(line) as { msg?: string }).msg === msg);

/**
 * A connection that has sent a request's headers and half its body, and waits. It asks for a
 * 100 Continue first and waits for it, so the server has taken the request in before the test
 * goes on (a signal could otherwise reach the server before the bytes, and find the connection
 * idle).
 */
const halfSent = async (port: number): Promise<Socket> => {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\nExpect: 100-continue\r\n\r\n');
  const interim = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
  if (!interim.startsWith('HTTP/1.1 100')) throw new Error(`expected 100 Continue, got ${interim}`);
  socket.write('{"username":');
  return socket;
};

describe('service process lifecycle', () => {
  beforeAll(async () => {
    await compileService();
  }, 120_000);
  afterAll(() => scratch.cleanUp());

  it('keeps serving with readiness failing for SHUTDOWN_DELAY_MS after SIGTERM, then exits 0', async () => {
    // Long enough to cover the three requests below (an argon2 registration among them) on a slow machine.
    const service = await start({ SHUTDOWN_DELAY_MS: '5000' });
    const client = createClient(service.url);
    expect((await client.get('/health/ready')).status).toBe(200);
    service.kill('SIGTERM');
    await service.waitForLine((line) => line.includes('"shutting down"'));
    expect((await client.get('/health/ready')).status).toBe(503);
    expect((await client.get('/health/live')).status).toBe(200);
    expect((await client.post('/api/auth/register', { body: { email: 'late@example.com', username: 'late', password: 'a long enough password' } })).status).toBe(201);
    expect(await service.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(logged(service.lines, 'stopped')).toBe(true);
  }, 45_000);

  it('exits 1 with a line saying so when a request is still open after SHUTDOWN_TIMEOUT_MS', async () => {
    const service = await start({ SHUTDOWN_TIMEOUT_MS: '500' });
    const socket = await halfSent(service.port);
    const stoppedAt = Date.now();
    service.kill('SIGTERM');
    expect(await service.waitForExit(10_000)).toEqual({ code: 1, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    const line = service.lines.map((l) => JSON.parse(l) as { msg?: string; stage?: string }).find((l) => l.msg === 'shutdown timed out: exiting');
    expect(line).toMatchObject({ stage: 'draining HTTP' });
    socket.destroy();
  }, 30_000);

  it('closes a keep-alive connection once its request in flight is answered, and exits 0 without waiting out its idle timeout', async () => {
    // Node keeps a connection that goes idle after close() open for KEEP_ALIVE_TIMEOUT_S (65 s).
    const service = await start({ SHUTDOWN_TIMEOUT_MS: '8000' });
    const socket = await halfSent(service.port);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    service.kill('SIGTERM');
    await service.waitForLine((l) => l.includes('"shutting down"'));
    socket.write('"nobody","password":"x"}'.padEnd(28, ' ')); // the 40 bytes of its Content-Length
    await closed;
    // Answered (the password is too short), then the connection closed by the server: it went
    // idle while stopping (an answer begun after SIGTERM says Connection: close as well).
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await service.waitForExit(6_000)).toEqual({ code: 0, signal: null });
  }, 30_000);

  it('takes a second signal while stopping for the same request to stop, not for a kill', async () => {
    const service = await start({ SHUTDOWN_DELAY_MS: '1500' });
    service.kill('SIGTERM');
    await service.waitForLine((l) => l.includes('"shutting down"'));
    service.kill('SIGTERM');
    service.kill('SIGINT');
    expect(await service.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(logged(service.lines, 'stopped')).toBe(true);
  }, 30_000);

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_S, not Node’s 5 s', async () => {
    const service = await start({ KEEP_ALIVE_TIMEOUT_S: '1' });
    const socket = connect(service.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    const answeredAt = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    const idle = Date.now() - answeredAt;
    expect(idle).toBeGreaterThan(800);
    expect(idle).toBeLessThan(3_000);
  }, 30_000);

  it('answers liveness while it starts (migrations waiting for another process), 503 to the rest, then serves', async () => {
    const schema = await createTestSchema();
    const holder = new pg.Client({ connectionString: schema.url });
    await holder.connect();
    try {
      // Another process migrating: the migration lock is held.
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const dir = scratch.dir('shutdown');
      const service = await startServiceProcess({ env: { DATA_DIR: dir.path, DATABASE_URL: schema.url, ...deploymentSecrets() }, wait: false });
      await service.waitForLine((line) => line.includes('"msg":"starting"'));
      const client = createClient(service.url);
      expect((await client.get('/health/live')).status).toBe(200);
      const ready = await client.get('/health/ready');
      expect([ready.status, ready.body.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      const register = await client.post('/api/auth/register', { body: { email: 'early@example.com', username: 'early', password: 'a long enough password' } });
      expect([register.status, register.body.code, Number(register.headers.get('retry-after')) > 0]).toEqual([503, 'SERVICE_UNAVAILABLE', true]);

      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      await service.waitForLine((line) => line.includes('"msg":"listening"'));
      expect((await client.get('/health/ready')).status).toBe(200);
      expect((await client.post('/api/auth/register', { body: { email: 'early@example.com', username: 'early', password: 'a long enough password' } })).status).toBe(201);
      await service.stop();
    } finally {
      await holder.end();
      await schema.drop();
    }
  }, 60_000);

  it('gives up after MIGRATION_WAIT_S when another process never finishes migrating, naming it, and exits 1', async () => {
    const schema = await createTestSchema();
    const holderUrl = new URL(schema.url);
    holderUrl.searchParams.set('application_name', 'stuck-migrating');
    const holder = new pg.Client({ connectionString: holderUrl.toString() });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const dir = scratch.dir('shutdown');
      await expect(
        startServiceProcess({ env: { DATA_DIR: dir.path, DATABASE_URL: schema.url, MIGRATION_WAIT_S: '1', ...deploymentSecrets() }, startTimeoutMs: 20_000 }),
      ).rejects.toThrow(/exited \(1\)[\s\S]*gave up after \d+ s waiting for another process's schema migrations: the migration lock is held by session \d+ \(application \\"stuck-migrating\\"[\s\S]*"msg":"could not start"/);
    } finally {
      await holder.end();
      await schema.drop();
    }
  }, 60_000);

  it('serves as a worker under the worker command, and refuses one that PROCESS_ROLE contradicts', async () => {
    await onPostgres(async (env) => {
      const worker = await startServiceProcess({ env, args: ['worker'] });
      expect(worker.lines.some((line) => line.includes('"msg":"listening"') && line.includes('"role":"worker"'))).toBe(true);
      // Health only: the API is the api processes'.
      const client = createClient(worker.url);
      expect((await client.get('/health/live')).status).toBe(200);
      expect((await client.post('/api/auth/register', { body: { email: 'w@example.com', username: 'w', password: 'a long enough password' } })).status).toBe(404);
      await worker.stop();
      await expect(startServiceProcess({ env: { ...env, PROCESS_ROLE: 'api' }, args: ['worker'], startTimeoutMs: 10_000 })).rejects.toThrow(
        /exited \(2\)[\s\S]*the command "worker" conflicts with PROCESS_ROLE=api/,
      );
    });
  }, 60_000);

  it('starts, and says so, when a projection cannot catch up (an event it cannot read), instead of exiting to be restarted for ever', async () => {
    await onPostgres(async (env) => {
      await (await startServiceProcess({ env })).stop(); // migrated
      const admin = new pg.Client({ connectionString: env['DATABASE_URL'] });
      await admin.connect();
      await admin.query(
        `INSERT INTO events (position, id, stream, revision, type, data, metadata, recorded_at)
         SELECT COALESCE(MAX(position), 0) + 1, gen_random_uuid(), 'future-1', 0, 'FromTheFuture', '{}', '{"schema_version":1}', now() FROM events`,
      );
      await admin.end();
      const service = await startServiceProcess({ env });
      expect(service.lines.some((line) => line.includes('projections failed while catching up'))).toBe(true);
      const client = createClient(service.url);
      expect((await client.get('/health/live')).status).toBe(200);
      expect((await client.post('/api/auth/register', { body: { email: 'after@example.com', username: 'after', password: 'a long enough password' } })).status).toBe(201);
      await service.stop();
    });
  }, 60_000);

  it('hands the delivery role over at SIGTERM, so codes go out while the old leader drains', async () => {
    await onPostgres(async (env) => {
      const outbox = env['OUTBOX_FILE']!;
      const leader = await startServiceProcess({ env: { ...env, SHUTDOWN_DELAY_MS: '20000' } });
      const client = createClient(leader.url);
      const operator = await newOperator(client);
      const app = await newApp(client, operator.token);
      const send = async (username: string) => {
        const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });
        expect(sent.status).toBe(202);
        return sent.body.challenge_id as string;
      };
      // The only process yet: the leader.
      await codeFromOutbox(outbox, await send('before'), 1, 10_000);
      const standby = await startServiceProcess({ env: { ...env, PROCESS_ROLE: 'worker' } });
      leader.kill('SIGTERM');
      await leader.waitForLine((line) => line.includes('"shutting down"'));
      // Still serving (SHUTDOWN_DELAY_MS), no longer delivering: the standby takes the role.
      expect(await codeFromOutbox(outbox, await send('during'), 1, 10_000)).toMatch(/^\d+$/);
      leader.kill('SIGKILL');
      await standby.stop();
    });
  }, 90_000);

  it('says why it cannot start in one JSON line and exits 1', async () => {
    const dir = scratch.dir('shutdown');
    await expect(
      startServiceProcess({ env: { DATA_DIR: dir.path, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', ...deploymentSecrets() }, startTimeoutMs: 10_000 }),
    ).rejects.toThrow(/exited \(1\)[\s\S]*"msg":"could not start"/);
  }, 30_000);

  it('names HOST and PORT when it cannot listen there', async () => {
    const dir = scratch.dir('shutdown');
    await expect(startServiceProcess({ env: { DATA_DIR: dir.path, HOST: 'nowhere.invalid' }, startTimeoutMs: 10_000 })).rejects.toThrow(
      /exited \(1\)[\s\S]*"listen":"nowhere\.invalid:\d+","hint":"check HOST and PORT","msg":"could not start"/,
    );
  }, 30_000);

  it('names the master key id when a new MASTER_KEY is given the id of the key the data was wrapped with', async () => {
    const dir = scratch.dir('shutdown');
    const first = await startServiceProcess({ env: { DATA_DIR: dir.path } });
    await first.stop();
    await expect(startServiceProcess({ env: { DATA_DIR: dir.path, MASTER_KEY: deploymentSecrets().MASTER_KEY }, startTimeoutMs: 15_000 })).rejects.toThrow(
      /exited \(1\)[\s\S]*under master key \\"k1\\": authentication failed \(the key configured under that id is not the one it was wrapped with, e\.g\. a new MASTER_KEY under an old MASTER_KEY_ID[\s\S]*"msg":"could not start"/,
    );
  }, 45_000);

  it('gives up with code 1 when its WEB_CONCURRENCY processes keep dying at start, instead of forking forever, and says so in its metric', async () => {
    const dir = scratch.dir('shutdown');
    const receiver = await startOtlpReceiver();
    try {
      const env = {
        DATA_DIR: dir.path,
        WEB_CONCURRENCY: '2',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        // Longer than the test: only the primary's flush at exit can export the count.
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
        ...deploymentSecrets(),
      };
      await expect(startServiceProcess({ env, startTimeoutMs: 40_000 })).rejects.toThrow(/exited \(1\)[\s\S]*giving up/);
      const exits = (await receiver.waitForPoints((points) => points.some((point) => point.metric === 'otp_verify.process.exits'), 5_000)).filter(
        (point) => point.metric === 'otp_verify.process.exits',
      );
      const count = (outcome: string) => exits.filter((point) => point.attributes['outcome'] === outcome).reduce((sum, point) => sum + point.value, 0);
      expect([count('gave_up'), count('restarted')]).toEqual([1, 4]);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});
