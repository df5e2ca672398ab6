/**
 * A crash after the 202 and before the send, with a real SIGKILL of the process delivering
 * codes. An API process accepts the sends; a worker process delivers them. The worker runs for
 * the first half (some are delivered), is frozen (SIGSTOP) for the second half, so those are
 * certainly accepted and not yet sent whatever the machine's speed, then killed. The next
 * worker delivers every accepted send, and each one the first never sent exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { newApp, newOperator, readOutbox } from '../../support/flows.js';
import { createClient } from '../../support/http-client.js';
import { createTestSchema, type TestSchema } from '../../support/postgres.js';
import { compileService, deploymentSecrets, eventually, startServiceProcess, stopAllServiceProcesses, tempDir } from '../../support/service-process.js';

const SENDS = 60;

describe('delivery after a crash between the 202 and the send', () => {
  let schema: TestSchema;
  let dir: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    await compileService();
    schema = await createTestSchema();
    dir = tempDir('delivery-crash');
  }, 120_000);

  afterAll(async () => {
    await stopAllServiceProcesses();
    await schema?.drop();
    dir?.remove();
  }, 30_000);

  it('delivers every accepted send after a SIGKILL, the unsent ones exactly once', async () => {
    const outboxFile = join(dir.path, 'outbox.jsonl');
    const env = { DATABASE_URL: schema.url, DATA_DIR: dir.path, OUTBOX_FILE: outboxFile, SENDS_PER_IP_PER_HOUR: '100000', ...deploymentSecrets() };
    const firstWorker = await startServiceProcess({ env: { ...env, PROCESS_ROLE: 'worker' } });
    const api = await startServiceProcess({ env: { ...env, PROCESS_ROLE: 'api' } });
    const client = createClient(api.url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const burst = (from: number) =>
      Promise.all(
        Array.from({ length: SENDS / 2 }, (_, i) =>
          client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `crash-${from + i}`, channel: 'EMAIL', to: `crash-${from + i}@example.com` } }),
        ),
      );

    const delivering = await burst(0);
    firstWorker.kill('SIGSTOP');
    // Accepted while the worker is frozen (each waits up to 5 s for the projections it runs, then answers 202).
    const frozen = await burst(SENDS / 2);
    firstWorker.kill('SIGKILL');
    await firstWorker.waitForExit();
    const sent = [...delivering, ...frozen];
    expect(sent.map((r) => r.status)).toEqual(Array(SENDS).fill(202));
    const ids: string[] = sent.map((r) => r.body.challenge_id);
    const deliveredBefore = new Set(readOutbox(outboxFile).map((m) => m.challenge_id));
    const unsent = ids.filter((id) => !deliveredBefore.has(id));
    expect(unsent.length).toBeGreaterThanOrEqual(SENDS / 2);

    const secondWorker = await startServiceProcess({ env: { ...env, PROCESS_ROLE: 'worker' } });
    await eventually(async () => ids.every((id) => readOutbox(outboxFile).some((m) => m.challenge_id === id)), 20_000, 'every accepted send delivered');
    const lines = readOutbox(outboxFile);
    for (const id of unsent) expect(lines.filter((m) => m.challenge_id === id)).toHaveLength(1);
    // The provider (the outbox) has the message before the worker records the send: the record
    // follows within moments.
    const last = ids[ids.length - 1];
    await eventually(async () => (await client.get(`/api/code/${last}`, { apiKey: app.apiKey })).body.delivery?.status === 'SENT', 10_000, 'the last send recorded as SENT');
    await secondWorker.stop();
    await api.stop();
  }, 90_000);
});
