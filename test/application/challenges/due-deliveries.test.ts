/**
 * The delivery worker's to-do list takes the apps' sends in turn, each app's oldest first, so
 * one tenant's backlog does not hold every other tenant's codes behind it (a review saw another
 * app's email expire unsent behind 1,300 of one app's at Resend's 2 a second). A resend keeps
 * its app's turn.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { takingTurns, type DueDelivery } from '../../../src/application/challenges/expire-challenges.js';
import type { RecordedEvent } from '../../../src/application/ports.js';
import { deliveriesProjection } from '../../../src/application/projections/deliveries.js';
import { newApp, newOperator } from '../../support/flows.js';
import { createClient, type Client } from '../../support/http-client.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const entry = (challenge_id: string, second: number, app_id?: string): DueDelivery => ({
  challenge_id,
  due_at: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(),
  ...(app_id === undefined ? {} : { app_id }),
});

describe('takingTurns', () => {
  it("interleaves the apps' entries, each app's oldest first, the apps in the order of their oldest", () => {
    const due = [entry('b1', 1, 'B'), entry('b2', 2, 'B'), entry('b3', 3, 'B'), entry('a1', 10, 'A'), entry('c1', 5, 'C'), entry('c2', 11, 'C'), entry('old', 0)];
    expect(takingTurns(due).map((e) => e.challenge_id)).toEqual(['old', 'b1', 'c1', 'a1', 'b2', 'c2', 'b3']);
  });

  it('keeps every entry once, in time order within an app, however uneven the queues', () => {
    const due = [...Array.from({ length: 1_000 }, (_, i) => entry(`b${i}`, i % 60, 'B')), ...Array.from({ length: 100 }, (_, i) => entry(`x${i}`, 59, `X${i}`))];
    const turns = takingTurns(due);
    expect(turns).toHaveLength(due.length);
    expect(new Set(turns.map((e) => e.challenge_id)).size).toBe(due.length);
    const bs = turns.filter((e) => e.app_id === 'B').map((e) => e.due_at);
    expect(bs).toEqual([...bs].sort());
    // Every one-send app is in the first round: within the first 101 entries.
    expect(turns.slice(0, 101).filter((e) => e.app_id !== 'B')).toHaveLength(100);
  });
});

describe('the deliveries projection', () => {
  const recorded = (type: string, data: object, position: number) =>
    ({ stream: 'challenge-c1', position, revision: position, type, data, metadata: {}, recorded_at: '2026-01-01T00:00:00.000Z' }) as unknown as RecordedEvent;
  const dueEntry = (changes: ReturnType<typeof deliveriesProjection.apply>) => changes.find((c) => c.op === 'put' && c.collection === 'pending_deliveries');

  it('names the app of a late failure made due again (a retry or a fallback), whose entry had gone with the success', () => {
    const late = { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio-sms', reason: 'failed (14107)', permanent: false, late: true, throttled: true, retry_at: '2026-01-01T00:00:30.000Z', at: '2026-01-01T00:00:01.000Z' };
    expect(dueEntry(deliveriesProjection.apply(recorded('DeliveryFailed', { ...late, app_id: 'A' }, 3)))).toMatchObject({ doc: { app_id: 'A', due_at: late.retry_at } });
    // Recorded by an older build: due again all the same, without an app.
    const older = dueEntry(deliveriesProjection.apply(recorded('DeliveryFailed', late, 4)));
    expect(older).toMatchObject({ doc: { due_at: late.retry_at } });
    expect(older).not.toHaveProperty('doc.app_id');
  });
});

describe("the to-do list of a service's sends", () => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer({ worker: false, limits: { sendsPerIpPerHour: 100_000 } });
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it("lists another app's send second behind one app's backlog, and a resend in its app's turn", async () => {
    const operator = await newOperator(client);
    const busy = await newApp(client, operator.token);
    const quiet = await newApp(client, operator.token);
    const send = (apiKey: string, n: number) =>
      client.post('/api/code/send', { apiKey, body: { username: `user${n}`, channel: 'EMAIL', to: `user.${n}@example.org` } });
    const backlog: string[] = [];
    for (let i = 0; i < 8; i++) {
      const sent = await send(busy.apiKey, i);
      expect(sent.status).toBe(202);
      backlog.push(sent.body.challenge_id);
      server.clock.advance(100);
    }
    const mine = await send(quiet.apiKey, 100);
    expect(mine.status).toBe(202);
    const listed = async () => {
      await server.service.deps.readModels.waitFor(await server.service.deps.store.headPosition());
      return (await server.service.handlers.listDueDeliveries()).map((e) => e.challenge_id);
    };
    expect(await listed()).toEqual([backlog[0], mine.body.challenge_id, ...backlog.slice(1)]);

    // A resend (a second send for the user past the cooldown: a new code on the same challenge)
    // is due again, in its app's turn: its entry still names the app.
    server.clock.advance(31_000);
    const resent = await send(quiet.apiKey, 100);
    expect([resent.status, resent.body.challenge_id]).toEqual([202, mine.body.challenge_id]);
    const due = await server.service.handlers.listDueDeliveries();
    expect(due.find((e) => e.challenge_id === mine.body.challenge_id)).toMatchObject({ app_id: quiet.id });
    expect((await listed()).indexOf(mine.body.challenge_id)).toBe(1);
  });
});
