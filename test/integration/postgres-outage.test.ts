/**
 * PostgreSQL out of reach while the service runs (a TCP proxy in front of it cut, or stalled:
 * packets dropped, nothing closed), then back: requests that need it answer 503
 * SERVICE_UNAVAILABLE with Retry-After, as the contract has it for a dependency that is down,
 * never a 500 and never a request that hangs; the service recovers by itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const expectUnavailable = (answer: HttpResponse) => {
  expect({ status: answer.status, code: answer.body?.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
};

/** The first answer of `call` that is not a 503, retried for up to 10 s while PostgreSQL comes back. */
const onceServing = async (call: () => Promise<HttpResponse>): Promise<HttpResponse> => {
  let answer = await call();
  for (let waited = 0; answer.status === 503 && waited < 10_000; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    answer = await call();
  }
  return answer;
};

describe('PostgreSQL out of reach', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-pg-outage-'));
  let schema: TestSchema;
  let proxy: TcpProxy;
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    schema = await createTestSchema();
    const direct = new URL(schema.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(schema.url);
    proxied.port = String(proxy.port);
    // test-server.ts reads the backend of a data dir from this file.
    writeFileSync(join(dataDir, 'test-backend.json'), JSON.stringify({ databaseUrl: proxied.toString(), redisPrefix: `test:${schema.schema}:` }));
    // Short limits, so a PostgreSQL that stops answering is given up on within the test.
    server = await startTestServer({ dataDir, backend: 'postgres', postgresTimeouts: { connectMs: 1000, queryMs: 1500 } });
    client = createClient(server.url);
  });
  afterAll(async () => {
    proxy.restore();
    await server?.close();
    await proxy?.close();
    await schema?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** An operator, an app, and a send through it. */
  const sender = async () => {
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const send = (username: string) => client.post('/api/code/send', { apiKey: app.apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.org` } });
    return { operator, send };
  };

  it('answers 503 with Retry-After while it is cut, and serves again once it is back', async () => {
    const { operator, send } = await sender();
    expect((await send('before')).status).toBe(202);

    proxy.cut();
    expectUnavailable(await send('during'));
    expectUnavailable(await client.get('/api/app', { token: operator.token }));
    expectUnavailable(await client.post('/api/auth/login', { body: { username: operator.username, password: operator.password } }));
    expect(server.logs.filter((line) => line.includes('"unhandled error"'))).toEqual([]);

    proxy.restore();
    expect((await onceServing(() => send('after'))).status).toBe(202);
    expect((await client.get('/api/app', { token: operator.token })).status).toBe(200);
  }, 30_000);

  it('answers 503 within the statement limit when PostgreSQL stops answering, and serves again once it answers', async () => {
    const { operator, send } = await sender();
    expect((await send('before-stall')).status).toBe(202);

    proxy.stall();
    const started = Date.now();
    const answers = await Promise.all([send('stalled-1'), send('stalled-2'), client.get('/api/app', { token: operator.token })]);
    for (const answer of answers) expectUnavailable(answer);
    expect(Date.now() - started).toBeLessThan(10_000);

    proxy.cut(); // the stalled sessions end
    proxy.restore();
    expect((await onceServing(() => send('after-stall'))).status).toBe(202);
  }, 30_000);
});
