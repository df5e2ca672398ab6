/**
 * Two services on one PostgreSQL database and one Redis, as two API processes: sends of a first
 * code to one recipient at the same instant, spread across both, issue one challenge, and so do
 * registrations of one sent-code factor; resends at the same instant past the cooldown resend
 * once and spend the recipient's hourly cap once. A new code has no stream to order it by (each
 * is a new challenge's, and the recipient's latest challenge is a projection), and resends count
 * against the caps before their stream refuses them, so this rests on the slot they take in
 * Redis's rate limiter (`claimNextCode`): within one process the in-process limiter would be
 * enough, across processes only Redis is.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type HttpResponse } from '../support/http-client.js';
import { startTwoServers, type TestServer } from '../support/test-server.js';

describe('a new code for one recipient across processes on PostgreSQL and Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ a, b, stop } = await startTwoServers());
  });
  afterAll(() => stop?.());

  /** The challenges issued in the log since `after` for `username`. */
  const issuedFor = async (after: number, username: string) =>
    (await a.service.deps.store.readAll(after, 10_000)).filter((e) => e.type === 'ChallengeIssued' && (e.data as { username?: string }).username === username).length;
  const statuses = (answers: readonly HttpResponse[]) => answers.map((r) => (r.status < 300 ? r.status : `${r.status} ${r.body.code}`)).sort();

  it('sends one code for 12 concurrent sends, 6 through each process, first sends or resends; the others are told to wait', async () => {
    const [onA, onB] = [createClient(a.url), createClient(b.url)];
    const { apiKey } = await newApp(onA, (await newOperator(onA)).token); // 5 sends per recipient and hour
    const head = await a.service.deps.store.headPosition();
    const body = { username: 'ada', channel: 'EMAIL', to: 'ada@example.com' };
    const burst = () => Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? onA : onB).post('/api/code/send', { apiKey, body })));
    const answers = await burst();
    expect(statuses(answers)).toEqual([202, ...Array(11).fill('429 RESEND_TOO_SOON')]);
    for (const refused of answers.filter((r) => r.status === 429)) expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await issuedFor(head, 'ada')).toBe(1);

    // Each burst past the cooldown resends once and spends one of the recipient's five sends.
    // The fourth's resend spends the last: a request that checks the caps after it did is
    // told so (RATE_LIMITED) rather than to wait for the slot, whichever comes first.
    for (let round = 1; round <= 4; round += 1) {
      a.clock.advance(31_000);
      const answered = statuses(await burst());
      expect([round, answered.filter((status) => status === 202).length]).toEqual([round, 1]);
      const refusals = round < 4 ? ['429 RESEND_TOO_SOON'] : ['429 RESEND_TOO_SOON', '429 RATE_LIMITED'];
      expect([round, answered.filter((status) => status !== 202 && !refusals.includes(String(status)))]).toEqual([round, []]);
    }
    // Then the cap refuses them all, before any takes the slot.
    a.clock.advance(31_000);
    expect(statuses(await burst())).toEqual(Array(12).fill('429 RATE_LIMITED'));
    expect(await issuedFor(head, 'ada')).toBe(1);
  });

  it('registers one SMS factor for 6 concurrent registrations, 3 through each process', async () => {
    const [onA, onB] = [createClient(a.url), createClient(b.url)];
    const { apiKey } = await newApp(onA, (await newOperator(onA)).token);
    const head = await a.service.deps.store.headPosition();
    const body = { username: 'bea', otp_method: 'SMS', destination: '+34600765432' };
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? onA : onB).post('/api/otp/register', { apiKey, body })));
    expect(statuses(answers)).toEqual([201, ...Array(5).fill('429 RESEND_TOO_SOON')]);
    expect(await issuedFor(head, 'bea')).toBe(1);
  });
});
