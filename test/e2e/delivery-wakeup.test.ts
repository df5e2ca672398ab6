/**
 * The delivery worker is woken by the projection that makes a code due, instead of finding it
 * at its next poll: on the embedded default and (OTP_TEST_BACKEND=postgres) on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { codeFromOutbox, enrollTotp, newApp, newOperator, readOutbox } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, testBackend, type TestServer } from '../support/test-server.js';
import { createDeliveryWorker } from '../../src/interfaces/workers/delivery-worker.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('delivery wake-up', () => {
  let server: TestServer;
  let client: Client;
  let apiKey: string;
  let woken = 0;

  beforeAll(async () => {
    server = await startTestServer({ worker: false }); // nothing delivers unless a test says so
    client = createClient(server.url);
    apiKey = (await newApp(client, (await newOperator(client)).token)).apiKey;
    server.service.onDeliveryDue(() => void (woken += 1));
    // On PostgreSQL the subscription is told once when its LISTEN is in place.
    if (testBackend() === 'postgres') for (let waited = 0; woken === 0 && waited < 5000; waited += 10) await sleep(10);
    woken = 0;
  });
  afterAll(() => server.close());

  const send = async (username: string): Promise<string> => {
    const sent = await client.post('/api/code/send', { apiKey, body: { username, channel: 'EMAIL', to: `${username}@example.com` } });
    expect(sent.status).toBe(202);
    return sent.body.challenge_id as string;
  };

  it('is told when a sent code becomes due, and not for events that make nothing due', async () => {
    await enrollTotp(client, apiKey, 'totp-user', server.clock);
    const head = await server.service.deps.store.headPosition();
    await server.service.deps.readModels.waitFor(head);
    await sleep(50); // the projection's listener runs after its commit
    expect(woken).toBe(0);

    await send('alice');
    for (let waited = 0; woken === 0 && waited < 5000; waited += 10) await sleep(10);
    expect(woken).toBe(1);
    expect(readOutbox(server.outboxFile)).toEqual([]); // told by the projection: nothing was delivered
  });

  it('a worker that polls once a minute delivers at once when woken', async () => {
    const worker = createDeliveryWorker({ handlers: server.service.handlers, logger: server.service.deps.logger, pollMs: 60_000, idlePollMs: 60_000 });
    const unsubscribe = server.service.onDeliveryDue(worker.kick); // as src/interfaces/process/background-work.ts wires it
    worker.start(); // its first poll would come a minute from now
    try {
      const challengeId = await send('bob');
      // Found within codeFromOutbox's 5 s only because the projection woke the worker.
      expect(await codeFromOutbox(server.outboxFile, challengeId)).toMatch(/^[0-9]+$/);
    } finally {
      unsubscribe();
      await worker.stop();
    }
  });
});
