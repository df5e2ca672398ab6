/**
 * Sends that fail together (a provider's outage) are not all tried again in the same instant:
 * each retry waits its backoff plus up to a quarter more, by an amount fixed per challenge.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { challengeEvents, startFakeProviders, waitFor, type FakeProviders } from '../support/delivery.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('retry jitter', () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    fakes = await startFakeProviders();
    // The default jitter; a backoff of 4 s makes its spread (up to 1 s) plain in milliseconds.
    server = await startTestServer({ providers: fakes.providers, limits: { sendsPerIpPerHour: 100_000, deliveryBackoffSeconds: 4 } });
    client = createClient(server.url);
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  it('spreads the retries of eight sends refused at once over the backoff and a quarter of it', async () => {
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    fakes.resend.script(...Array.from({ length: 8 }, () => ({ status: 500, name: 'internal_server_error' })));
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `jitter${i}`, channel: 'EMAIL', to: `jitter.${i}@example.org` } });
      expect(sent.status).toBe(202);
      ids.push(sent.body.challenge_id as string);
    }
    const failures = await Promise.all(
      ids.map((id) =>
        waitFor(`the failure of ${id}`, async () => (await challengeEvents(server, id)).find((e) => e.type === 'DeliveryFailed')?.data as { at: string; retry_at: string } | undefined),
      ),
    );
    const delays = failures.map((f) => Date.parse(f.retry_at) - Date.parse(f.at));
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThan(5_000);
    }
    expect(new Set(delays).size).toBeGreaterThan(4);
  });
});
