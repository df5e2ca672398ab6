/**
 * Two services on one PostgreSQL database, as two API processes: an API key rotated through one
 * stops working in the other as soon as the commit notification arrives, not when the other's
 * cached app state ages out (here 60 s), because each process drops the cached states of the
 * streams other processes move.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newApp, newOperator } from '../support/flows.js';
import { createClient } from '../support/http-client.js';
import { startTwoServers, type TestServer } from '../support/test-server.js';

describe('cached states across processes on PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ a, b, stop } = await startTwoServers({ appStalenessMs: 60_000 }));
  });
  afterAll(() => stop?.());

  it('stops a rotated API key in the other process at once', async () => {
    const [onA, onB] = [createClient(a.url), createClient(b.url)];
    const operator = await newOperator(onA);
    const app = await newApp(onA, operator.token);
    const probe = (apiKey: string) => onB.post('/api/code/verify', { apiKey, body: { username: 'nobody', otp: '123456' } });
    expect((await probe(app.apiKey)).body).toMatchObject({ code: 'INVALID_CODE' }); // accepted key: B now caches the app
    const rotated = await onA.put(`/api/app/${app.id}/api-key`, { token: operator.token });
    expect(rotated.status).toBe(201);
    // Notified, so within moments; the deadline is for a slow machine.
    const deadline = Date.now() + 10_000;
    let answer = await probe(app.apiKey);
    while (answer.body.code !== 'UNAUTHENTICATED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await probe(app.apiKey);
    }
    expect(answer.body).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await probe(rotated.body.api_key as string)).body).toMatchObject({ code: 'INVALID_CODE' });
  });
});
