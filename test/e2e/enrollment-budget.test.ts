/**
 * An app's daily budget of TOTP registrations and recovery-code replacements: each writes an
 * event kept for good and sends nothing the send caps count, so without it an app's key could
 * grow the log at the rate it can call. The policy's max_sends_per_app_per_day, counted apart.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('the enrollment budget', () => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it("refuses TOTP registrations and recovery-code replacements past the app's daily budget, and writes nothing for them", async () => {
    const token = (await newOperator(client)).token;
    const app = await newApp(client, token, { max_sends_per_app_per_day: 3 });
    const register = (username: string) => client.post('/api/otp/register', { apiKey: app.apiKey, body: { username, otp_method: 'TOTP' } });
    const replace = (username: string) => client.put('/api/otp/recovery', { apiKey: app.apiKey, body: { username } });

    await enrollTotp(client, app.apiKey, 'ann', server.clock); // 1 (the first set of recovery codes comes free with activation)
    expect((await replace('ann')).status).toBe(200); // 2
    expect((await register('ben')).status).toBe(201); // 3

    for (const refused of [await register('cal'), await register('ben'), await replace('ann')]) {
      expect([refused.status, refused.body.code]).toEqual([429, 'RATE_LIMITED']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(86_000);
      expect(refused.body).not.toHaveProperty('secret');
    }
    const cal = await client.get('/api/otp/status?username=cal', { apiKey: app.apiKey });
    expect(cal.body.methods).toEqual([]);

    // Sent-code registrations are held by the send caps instead; another app has its own budget.
    expect((await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'dee', otp_method: 'EMAIL', destination: 'dee@example.org' } })).status).toBe(201);
    const other = await newApp(client, token, { max_sends_per_app_per_day: 3 });
    expect((await client.post('/api/otp/register', { apiKey: other.apiKey, body: { username: 'cal', otp_method: 'TOTP' } })).status).toBe(201);
  });
});
