/**
 * record-delivery-report and record-delivery-confirmation against the real service (in memory, no delivery worker: the test
 * records the attempt and its acceptance itself): what it answers when its append is refused
 * (contention, or the report gone stale meanwhile), and how a throttled report near the code's
 * expiry is taken.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { left } from 'fp-ts/lib/Either.js';
import { ChallengeAggregate } from '../../../src/application/aggregates.js';
import { makeRecordDeliveryConfirmation } from '../../../src/application/challenges/record-delivery-confirmation.js';
import { makeRecordDeliveryReport, type DeliveryReport } from '../../../src/application/challenges/record-delivery-report.js';
import { reject } from '../../../src/domain/shared/rejection.js';
import { newApp, newOperator } from '../../support/flows.js';
import { createClient } from '../../support/http-client.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

describe('recording a delivery report', () => {
  let server: TestServer;
  let apiKey: string;
  let n = 0;

  beforeAll(async () => {
    server = await startTestServer({ inMemory: true, worker: false });
    const client = createClient(server.url);
    apiKey = (await newApp(client, (await newOperator(client)).token, { channels: ['SMS'] })).apiKey;
  });
  afterAll(() => server.close());

  /** An SMS send whose first attempt the outbox accepted: a report of it applies. */
  const delivered = async (): Promise<DeliveryReport> => {
    const sent = await createClient(server.url).post('/api/code/send', { apiKey, body: { username: `u${n++}`, channel: 'SMS', to: `+3461277${String(1000 + n++)}` } });
    const id = sent.body.challenge_id as string;
    const stream = `challenge-${id}`;
    const at = () => server.clock().toISOString();
    const common = { send: 1, attempt: 1, channel: 'SMS' as const, provider: 'outbox' };
    await server.service.deps.handle(ChallengeAggregate, stream, () => ({ type: 'RecordDeliveryAttempt' as const, ...common, at: at() }));
    await server.service.deps.handle(ChallengeAggregate, stream, () => ({ type: 'RecordDelivery' as const, ...common, outcome: { ok: true as const }, at: at() }));
    return { challenge_id: id, ...common, reason: 'outbox: undelivered (30003)', throttled: false };
  };
  const refusingDeps = (before?: (stream: string) => Promise<unknown>) => ({
    ...server.service.deps,
    handle: async (_aggregate: unknown, stream: string) => {
      await before?.(stream);
      return left(reject('CONFLICT', `Too much contention on ${stream}`));
    },
  });
  const refusing = (before?: (stream: string) => Promise<unknown>) => makeRecordDeliveryReport(refusingDeps(before));
  const types = async (id: string) => (await server.service.deps.store.readStream(`challenge-${id}`)).map((e) => e.type);

  it('answers NOT_RECORDED when its append is refused while the report still applies (contention): the caller is told', async () => {
    const report = await delivered();
    expect(await refusing()(report)).toBe('NOT_RECORDED');
    expect(await types(report.challenge_id)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded']);
  });

  it('answers IGNORED when the refusal is because the report no longer applies (the challenge closed meanwhile)', async () => {
    const report = await delivered();
    const cancel = (stream: string) => server.service.deps.handle(ChallengeAggregate, stream, (state) => ({ type: 'CancelChallenge' as const, app_id: state.status === 'NONE' ? '' : state.app_id, purpose: 'VERIFICATION' as const, at: server.clock().toISOString() }));
    expect(await refusing(cancel)(report)).toBe('IGNORED');
  });

  it('records a report that applies: FAILED without a fallback', async () => {
    const report = await delivered();
    expect(await server.service.handlers.recordDeliveryReport(report)).toBe('FAILED');
    expect(await server.service.handlers.recordDeliveryReport(report)).toBe('IGNORED');
  });

  it("retries a throttled report on the same channel, unless that retry would come only after the code's expiry", async () => {
    const early = await delivered();
    expect(await server.service.handlers.recordDeliveryReport({ ...early, throttled: true })).toBe('RETRY_SCHEDULED');
    const late = await delivered();
    const state = await server.service.deps.load(ChallengeAggregate, `challenge-${late.challenge_id}`);
    server.clock.advance(Date.parse(state.status === 'NONE' ? '' : state.expires_at) - server.clock().getTime() - 500);
    expect(await server.service.handlers.recordDeliveryReport({ ...late, throttled: true })).toBe('FAILED');
  });

  describe('a receipt', () => {
    const receiptOf = ({ challenge_id, send, attempt, channel, provider }: DeliveryReport) => ({ challenge_id, send, attempt, channel, provider, read: false });

    it('is recorded once: DELIVERED, then IGNORED as a repeat; a read receipt after it, READ', async () => {
      const receipt = receiptOf(await delivered());
      expect(await server.service.handlers.recordDeliveryConfirmation(receipt)).toBe('DELIVERED');
      expect(await server.service.handlers.recordDeliveryConfirmation(receipt)).toBe('IGNORED');
      expect(await server.service.handlers.recordDeliveryConfirmation({ ...receipt, read: true })).toBe('READ');
      expect(await types(receipt.challenge_id)).toEqual(['ChallengeIssued', 'DeliveryAttempted', 'DeliverySucceeded', 'DeliveryConfirmed', 'DeliveryConfirmed']);
    });

    it('naming no attempt, is recorded on a send whose answer was lost, even once the challenge closed (no retry will hear it), and counts it delivered', async () => {
      const sent = await createClient(server.url).post('/api/code/send', { apiKey, body: { username: `u${n++}`, channel: 'SMS', to: `+3461277${String(1000 + n++)}` } });
      const id = sent.body.challenge_id as string;
      const stream = `challenge-${id}`;
      const at = () => server.clock().toISOString();
      const common = { send: 1, attempt: 1, channel: 'SMS' as const, provider: 'outbox' };
      const { handle } = server.service.deps;
      await handle(ChallengeAggregate, stream, () => ({ type: 'RecordDeliveryAttempt' as const, ...common, at: at() }));
      const lost = { ok: false as const, reason: 'timeout', permanent: false, retry_at: new Date(server.clock().getTime() + 60_000).toISOString() };
      await handle(ChallengeAggregate, stream, () => ({ type: 'RecordDelivery' as const, ...common, outcome: lost, at: at() }));
      await handle(ChallengeAggregate, stream, (state) => ({ type: 'CancelChallenge' as const, app_id: state.status === 'NONE' ? '' : state.app_id, purpose: 'VERIFICATION' as const, at: at() }));
      expect(await server.service.handlers.recordDeliveryConfirmation({ challenge_id: id, send: 1, channel: 'SMS', provider: 'outbox', read: false })).toBe('DELIVERED');
      // The receipt is proof the message was taken: the send counts delivered.
      expect((await types(id)).slice(-3)).toEqual(['ChallengeCanceled', 'DeliverySucceeded', 'DeliveryConfirmed']);
    });

    it('answers NOT_RECORDED when its append is refused while it still applies, IGNORED when a copy of it was recorded meanwhile', async () => {
      const receipt = receiptOf(await delivered());
      expect(await makeRecordDeliveryConfirmation(refusingDeps())(receipt)).toBe('NOT_RECORDED');
      const copy = () => server.service.handlers.recordDeliveryConfirmation(receipt);
      expect(await makeRecordDeliveryConfirmation(refusingDeps(copy))(receipt)).toBe('IGNORED');
      expect((await types(receipt.challenge_id)).filter((type) => type === 'DeliveryConfirmed')).toHaveLength(1);
    });
  });
});
