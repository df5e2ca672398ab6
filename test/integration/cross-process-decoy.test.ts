/**
 * Two services on one PostgreSQL database and one Redis, as two API processes: concurrent
 * failures of one made-up username spread across both are each counted, as a known user's
 * are (through the stream's expected revision), because the decoy's counts are written with a
 * compare-and-set in Redis. Within one process the failures of a name queue; across processes
 * only the compare-and-set keeps them apart.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, newApp, newOperator, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type HttpResponse } from '../support/http-client.js';
import { startTwoServers, type TestServer } from '../support/test-server.js';

describe('the decoy across processes on PostgreSQL and Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ a, b, stop } = await startTwoServers());
  });
  afterAll(() => stop?.());

  it('counts each of 16 concurrent failures of one made-up name, 8 through each process, as a known user\'s', async () => {
    const [onA, onB] = [createClient(a.url), createClient(b.url)];
    const app = await newApp(onA, (await newOperator(onA)).token, { max_attempts: 20 });
    const { secret } = await enrollTotp(onA, app.apiKey, 'alice', a.clock);
    const wrong = wrongCode(...[-1, 0, 1].map((d) => totpAt(secret, new Date(a.clock().getTime() + d * 30_000))));
    const spread = (username: string) =>
      Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? onA : onB).post('/api/code/verify', { apiKey: app.apiKey, body: { username, otp: wrong } })));
    const remaining = (answers: readonly HttpResponse[]) => answers.map((r) => r.body.attempts_remaining as number).sort((x, y) => x - y);
    const [known, unknown] = await Promise.all([spread('alice'), spread('ghost')]);
    const all = Array.from({ length: 16 }, (_, i) => 4 + i);
    expect(remaining(known)).toEqual(all);
    expect(remaining(unknown)).toEqual(all);
  });
});
