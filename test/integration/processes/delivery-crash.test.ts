/**
 * A crash after the 202 and before the send, with a real SIGKILL: sends are accepted by a
 * service process that is killed at once, before its delivery worker can get to all of them;
 * the next process delivers every one, and the ones the first never sent exactly once.
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
    const first = await startServiceProcess({ env });
    const client = createClient(first.url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);

    const sent = await Promise.all(
      Array.from({ length: SENDS }, (_, i) =>
        client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `crash-${i}`, channel: 'EMAIL', to: `crash-${i}@example.com` } }),
      ),
    );
    first.kill('SIGKILL');
    await first.waitForExit();
    expect(sent.map((r) => r.status)).toEqual(Array(SENDS).fill(202));
    const ids: string[] = sent.map((r) => r.body.challenge_id);
    const deliveredBefore = new Set(readOutbox(outboxFile).map((m) => m.challenge_id));
    // A kill right after the answers leaves sends the worker has not reached yet.
    expect(ids.filter((id) => !deliveredBefore.has(id)).length).toBeGreaterThan(0);

    const second = await startServiceProcess({ env });
    await eventually(async () => ids.every((id) => readOutbox(outboxFile).some((m) => m.challenge_id === id)), 15_000, 'every accepted send delivered');
    const lines = readOutbox(outboxFile);
    for (const id of ids.filter((id) => !deliveredBefore.has(id))) expect(lines.filter((m) => m.challenge_id === id)).toHaveLength(1);
    const status = await createClient(second.url).get(`/api/code/${ids[ids.length - 1]}`, { apiKey: app.apiKey });
    expect(status.body.delivery).toMatchObject({ status: 'SENT' });
  }, 90_000);
});
