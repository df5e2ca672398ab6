/**
 * The real service, started as in production (`node --import register.js main.js`), exports
 * its spans to a local OTLP receiver: one verify request gives an HTTP server span with the
 * `command Challenge` span inside it, in the same trace. On PostgreSQL + Redis
 * (OTP_TEST_BACKEND=postgres), the requests' database calls are spans of their traces too
 * (the pg and ioredis instrumentations hook those CommonJS packages).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { codeFromOutbox, newApp, newOperator } from '../support/flows.js';
import { createClient } from '../support/http-client.js';
import { SpanKind, startOtlpReceiver, type CollectedSpan, type OtlpReceiver } from '../support/otlp-receiver.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { testRedisUrl } from '../support/redis.js';
import { testBackend } from '../support/test-server.js';

const root = resolve('.');
// Compiled apart from dist/ so the test never races a developer's build.
const outDir = join(root, 'node_modules', '.cache', 'otp-verify-service-test');

const freePort = (): Promise<number> =>
  new Promise((done) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });

const ancestors = (span: CollectedSpan, all: readonly CollectedSpan[]): CollectedSpan[] => {
  const byId = new Map(all.map((s) => [s.spanId, s]));
  const chain: CollectedSpan[] = [];
  for (let p = span.parentSpanId && byId.get(span.parentSpanId); p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) chain.push(p);
  return chain;
};

describe('tracing of the real service', () => {
  let receiver: OtlpReceiver;
  let child: ChildProcess;
  let dataDir: string;
  let url: string;
  let schema: TestSchema | undefined;
  const shared = testBackend() === 'postgres';

  beforeAll(async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root, timeout: 120_000 });
    receiver = await startOtlpReceiver();
    dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-trace-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    schema = shared ? await createTestSchema() : undefined;
    child = spawn(process.execPath, ['--import', join(outDir, 'infrastructure/telemetry/register.js'), join(outDir, 'interfaces/main.js')], {
      cwd: root,
      env: {
        PATH: process.env['PATH'] ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        // Named: on PostgreSQL there is no outbox unless OUTBOX_FILE asks for one.
        OUTBOX_FILE: join(dataDir, 'outbox.jsonl'),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '300',
        OTEL_SERVICE_NAME: 'otp-verify-test',
        ...(schema
          ? {
              DATABASE_URL: schema.url,
              REDIS_URL: testRedisUrl(),
              REDIS_KEY_PREFIX: `test:${schema.schema}:`,
              MASTER_KEY: randomBytes(32).toString('base64'),
              JWT_SECRET: randomBytes(32).toString('base64'),
            }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`service did not start: ${stderr}`)), 20_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"msg":"listening"')) {
          clearTimeout(timer);
          done();
        }
      });
    });
  }, 150_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    await schema?.drop();
    await receiver?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('puts the command span of a verification inside its HTTP server span', async () => {
    const client = createClient(url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'trace-user', channel: 'EMAIL', to: 'trace@example.com' } });
    expect(sent.status).toBe(202);
    const code = await codeFromOutbox(join(dataDir, 'outbox.jsonl'), sent.body.challenge_id);
    const verified = await client.post('/api/code/verify', { apiKey: app.apiKey, body: { challenge_id: sent.body.challenge_id, otp: code } });
    expect(verified.status).toBe(200);

    const isVerifyServerSpan = (s: CollectedSpan) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/api/code/verify';
    const spans = await receiver.waitForSpans((all) => {
      const server = all.find(isVerifyServerSpan);
      return server !== undefined && all.some((s) => s.name === 'command Challenge' && s.traceId === server.traceId);
    }, 15_000);

    const server = spans.find(isVerifyServerSpan)!;
    const command = spans.find((s) => s.name === 'command Challenge' && s.traceId === server.traceId)!;
    expect(ancestors(command, spans).map((s) => s.spanId)).toContain(server.spanId);
    expect(server.serviceName).toBe('otp-verify-test');
    // Span attributes never carry the code or the key.
    const attributeText = JSON.stringify(spans.map((s) => s.attributes));
    expect(attributeText).not.toContain(code);
    expect(attributeText).not.toContain(app.apiKey);
  }, 60_000);

  it("traces each delivery step of the worker: the provider's call and the step's commands inside one 'deliver challenge' span", async () => {
    const client = createClient(url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'delivery-trace', channel: 'EMAIL', to: 'delivery@example.com' } });
    expect(sent.status).toBe(202);
    const id = sent.body.challenge_id as string;
    const isStep = (s: CollectedSpan) => s.name === 'deliver challenge' && s.attributes['otp.challenge_id'] === id;
    const spans = await receiver.waitForSpans((all) => {
      const step = all.find(isStep);
      return step !== undefined && all.some((s) => s.name === 'send EMAIL' && s.traceId === step.traceId);
    }, 15_000);
    const step = spans.find(isStep)!;
    const send = spans.find((s) => s.name === 'send EMAIL' && s.traceId === step.traceId)!;
    expect(ancestors(send, spans).map((s) => s.spanId)).toContain(step.spanId);
    expect(send.attributes).toMatchObject({ 'otp.channel': 'EMAIL', 'otp.provider': 'outbox', 'otp.attempt': 1 });
    // The attempt and its outcome are recorded by commands of the same trace.
    const commands = spans.filter((s) => s.name === 'command Challenge' && s.traceId === step.traceId);
    expect(commands.length).toBeGreaterThanOrEqual(2);
    // The worker runs outside any request: the step is its trace's root.
    expect(step.parentSpanId ?? '').toBe('');
  }, 60_000);

  it("names the route of a request the API-key check refused (401), in the span and in http.server.request.duration", async () => {
    const client = createClient(url);
    const refused = await client.post('/api/code/verify', { apiKey: 'wrongkey123', body: {} });
    expect(refused.status).toBe(401);
    const isRefused = (s: CollectedSpan) => s.kind === SpanKind.SERVER && s.attributes['http.response.status_code'] === 401 && s.attributes['url.path'] === '/api/code/verify';
    const spans = await receiver.waitForSpans((all) => all.some(isRefused), 15_000);
    const span = spans.find(isRefused)!;
    expect(span.name).toBe('POST /api/code/verify');
    expect(span.attributes['http.route']).toBe('/api/code/verify');
    const points = await receiver.waitForPoints(
      (all) => all.some((p) => p.metric === 'http.server.request.duration' && p.attributes['http.response.status_code'] === 401 && p.attributes['http.request.method'] === 'POST'),
      15_000,
    );
    const refusedPoints = points.filter((p) => p.metric === 'http.server.request.duration' && p.attributes['http.response.status_code'] === 401 && p.attributes['http.request.method'] === 'POST');
    expect(refusedPoints.map((p) => p.attributes['http.route'])).toContain('/api/code/verify');
    expect(refusedPoints.filter((p) => p.attributes['http.route'] === undefined)).toEqual([]);

    // A body the parser refused before any router ran is named by the routers' match.
    const malformed = await fetch(`${url}/api/code/send`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'wrongkey123' }, body: '{' });
    expect(malformed.status).toBe(400);
    const isMalformed = (s: CollectedSpan) => s.kind === SpanKind.SERVER && s.attributes['http.response.status_code'] === 400 && s.attributes['url.path'] === '/api/code/send';
    const parsed = (await receiver.waitForSpans((all) => all.some(isMalformed), 15_000)).find(isMalformed)!;
    expect([parsed.name, parsed.attributes['http.route']]).toEqual(['POST /api/code/send', '/api/code/send']);
  }, 60_000);

  it('records a method outside the standard ones as _OTHER, named HTTP', async () => {
    await fetch(`${url}/api/code/verify`, { method: 'PURGE' });
    const isPurge = (s: CollectedSpan) => s.kind === SpanKind.SERVER && s.attributes['http.request.method_original'] === 'PURGE';
    const span = (await receiver.waitForSpans((all) => all.some(isPurge), 15_000)).find(isPurge)!;
    expect(span.name).toBe('HTTP');
    expect(span.attributes['http.request.method']).toBe('_OTHER');
    await receiver.waitForPoints((all) => all.some((p) => p.metric === 'http.server.request.duration' && p.attributes['http.request.method'] === '_OTHER'), 15_000);
    expect(receiver.points().filter((p) => p.attributes['http.request.method'] === 'PURGE')).toEqual([]);
  }, 60_000);

  // Registered only on PostgreSQL + Redis: `npm test` runs this file on both backends.
  if (shared)
    it("records Redis commands by name and key prefix only, pg queries without values, and no pool series of unknown hosts", async () => {
      const client = createClient(url);
      const operator = await newOperator(client);
      // A failed login: counted in Redis per client address (login-ip:127.0.0.1) by a Lua script.
      expect((await client.post('/api/auth/login', { body: { username: operator.username, password: 'not the password at all' } })).status).toBe(401);
      const isRedis = (s: CollectedSpan) => s.attributes['db.system.name'] === 'redis';
      const isRefusedLogin = (s: CollectedSpan) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/api/auth/login' && s.attributes['http.response.status_code'] === 401;
      const inRefusedLogin = (s: CollectedSpan, all: readonly CollectedSpan[]) => isRedis(s) && ancestors(s, all).some(isRefusedLogin);
      const spans = await receiver.waitForSpans((all) => all.some((s) => inRefusedLogin(s, all)), 15_000);
      const statements = spans.filter(isRedis).map((s) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? ''));
      // The key prefix here is test:<schema>: (REDIS_KEY_PREFIX), whose schema name stops the words.
      expect(spans.filter((s) => inRefusedLogin(s, spans)).map((s) => s.attributes['db.query.text'] ?? s.attributes['db.statement'])).toContain('evalsha test:*');
      for (const statement of statements) {
        expect(statement).toMatch(/^[a-z]+( [a-z-]+(:[a-z-]+)*(:\*)?)?$/);
        expect(statement).not.toContain('127.0.0.1');
      }
      // pg: the query's text with its placeholders; no parameter values recorded.
      const pgSpans = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
      expect(pgSpans.length).toBeGreaterThan(0);
      expect(pgSpans.flatMap((s) => Object.keys(s.attributes)).filter((key) => /param|values/i.test(key))).toEqual([]);
      await receiver.waitForPoints((all) => all.some((p) => p.metric === 'http.server.request.duration' && p.attributes['http.route'] === '/api/auth/login'), 15_000);
      // The pool metrics are the service's own, one series per pool, none the instrumentation's
      // (which named every pool unknown_host:unknown_port/unknown_database).
      await receiver.waitForPoints((all) => all.some((p) => p.metric === 'db.client.connection.count'), 15_000);
      const pools = receiver.points().filter((p) => p.metric.startsWith('db.client.connection.'));
      expect(new Set(pools.map((p) => p.attributes['db.client.connection.pool.name']))).toEqual(new Set(['main', 'abuse', 'health']));
      expect(JSON.stringify(receiver.points())).not.toContain('unknown_host');
    }, 60_000);

  // Registered only on PostgreSQL + Redis: `npm test` runs this file on both backends.
  if (shared)
    it('on PostgreSQL + Redis, records the database calls of a request inside its trace', async () => {
      const client = createClient(url);
      const operator = await newOperator(client);
      const app = await newApp(client, operator.token);
      const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'db-trace-user', channel: 'EMAIL', to: 'db@example.com' } });
      expect(sent.status).toBe(202);
      // The stable database conventions' attribute (older instrumentations said `db.system`).
      const inRequest = (system: string) => (s: CollectedSpan, all: readonly CollectedSpan[]) =>
        s.attributes['db.system.name'] === system && s.kind === SpanKind.CLIENT && ancestors(s, all).some((p) => p.kind === SpanKind.SERVER);
      const spans = await receiver.waitForSpans(
        (all) => all.some((s) => inRequest('postgresql')(s, all)) && all.some((s) => inRequest('redis')(s, all)),
        15_000,
      );
      expect(spans.some((s) => inRequest('postgresql')(s, spans))).toBe(true);
      expect(spans.some((s) => inRequest('redis')(s, spans))).toBe(true);

      // The send's append went in a group commit: a trace of its own, linked to the send's
      // trace, holding the statement; no request's trace holds another's statements.
      const sendTrace = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/api/code/send' && s.attributes['http.response.status_code'] === 202)!.traceId;
      const commits = (await receiver.waitForSpans((all) => all.some((s) => s.name === 'group commit' && s.links.some((l) => l.traceId === sendTrace)), 15_000)).filter(
        (s) => s.name === 'group commit' && s.links.some((l) => l.traceId === sendTrace),
      );
      expect(commits.length).toBeGreaterThan(0);
      for (const commit of commits) {
        expect(commit.traceId).not.toBe(sendTrace);
        expect(commit.parentSpanId ?? '').toBe('');
      }
      const all = receiver.spans();
      expect(all.some((s) => s.attributes['db.system.name'] === 'postgresql' && commits.some((c) => c.spanId === s.parentSpanId))).toBe(true);
    }, 60_000);
});
