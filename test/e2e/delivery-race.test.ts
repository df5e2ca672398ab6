/**
 * Two delivery workers racing for one code (an old leader finishing while a new one starts)
 * send it once: recording the attempt before the provider call is a claim only one of them gets.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newApp, newOperator, readOutbox } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('racing delivery steps', () => {
  let server: TestServer;
  let client: Client;
  let apiKey: string;

  beforeAll(async () => {
    server = await startTestServer({ worker: false }); // the test plays the workers
    client = createClient(server.url);
    apiKey = (await newApp(client, (await newOperator(client)).token)).apiKey;
  });
  afterAll(() => server.close());

  it('five concurrent delivery steps for one challenge send its code once', async () => {
    for (const username of ['ana', 'ben', 'cy']) {
      const sent = await client.post('/api/code/send', { apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });
      expect(sent.status).toBe(202);
      const challengeId = sent.body.challenge_id as string;
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => server.service.handlers.deliverChallenge(challengeId)));
      expect(outcomes.filter((outcome) => outcome === 'DELIVERED')).toHaveLength(1);
      expect(readOutbox(server.outboxFile).filter((message) => message.challenge_id === challengeId)).toHaveLength(1);
      const events = await server.service.deps.store.readStream(`challenge-${challengeId}`);
      expect(events.filter((event) => event.type === 'DeliveryAttempted')).toHaveLength(1);
    }
  });
});
