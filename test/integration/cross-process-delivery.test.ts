/**
 * Two services on one PostgreSQL database (in one Jest process, so sharing listen.ts's LISTEN
 * connection, but told only through PostgreSQL: nothing is passed in process on this backend):
 * A runs the projections and takes the sends, B runs none (an API-role process) but has the
 * delivery worker, polling once a minute. B delivers at once because the projection's
 * transaction in A sends a NOTIFY that B listens for; without it, B would find the code only at
 * its next poll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { codeFromOutbox, newApp, newOperator } from '../support/flows.js';
import { createClient } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { createDeliveryWorker, type DeliveryWorker } from '../../src/interfaces/workers/delivery-worker.js';

describe('delivery wake-up across processes on PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-two-processes-'));
  let a: TestServer;
  let b: TestServer;
  let worker: DeliveryWorker;
  let woken = 0;

  beforeAll(async () => {
    a = await startTestServer({ dataDir, backend: 'postgres', worker: false });
    b = await startTestServer({ dataDir, backend: 'postgres', worker: false, role: 'api', keys: a.keys, clock: a.clock });
    b.service.onDeliveryDue(() => void (woken += 1));
    // Told once when its LISTEN is in place: from then on B hears every NOTIFY.
    for (let waited = 0; woken === 0 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(woken).toBe(1);
    woken = 0;
    // Subscribed once B listens, so that first tell does not spend the worker's one poll a minute.
    worker = createDeliveryWorker({ handlers: b.service.handlers, logger: b.service.deps.logger, pollMs: 60_000, idlePollMs: 60_000 });
    b.service.onDeliveryDue(worker.kick); // as src/interfaces/process/background-work.ts wires it
    worker.start(); // its first poll would come a minute from now
  });
  afterAll(async () => {
    await worker?.stop();
    await b?.stop();
    await a?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("delivers from the process that does not project, woken by the other's projection", async () => {
    const onA = createClient(a.url);
    const { apiKey } = await newApp(onA, (await newOperator(onA)).token);
    expect(woken).toBe(0); // an operator and an app make nothing due
    const sent = await onA.post('/api/code/send', { apiKey, body: { username: 'alice', channel: 'EMAIL', to: 'alice@example.com' } });
    expect(sent.status).toBe(202);
    // Found within codeFromOutbox's 5 s only because B was woken: B itself projects nothing.
    expect(await codeFromOutbox(b.outboxFile, sent.body.challenge_id as string)).toMatch(/^[0-9]+$/);
    expect(woken).toBe(1);
  });
});
