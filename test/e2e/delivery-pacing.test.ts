/**
 * Emails through Resend are paced to the account's rate (RESEND_RATE_PER_SECOND; Resend allows
 * 2 a second unless the account was given more): a burst of sends goes out spaced, with no
 * request refused for the rate, and a send waiting its turn records nothing (one attempt, one
 * success each). Unpaced, the same burst against the same limit is refused in part (429
 * rate_limit_exceeded), which is what the pacing saves.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { challengeEvents, emailAddress, resendApiKey, waitFor } from '../support/delivery.js';
import { startFakeResend, type FakeResend } from '../support/fake-resend.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** The fake Resend's limit: it refuses past RATE requests in any 900 ms. */
const RATE = 4;
/**
 * The service is paced a little under that limit, as a deployment with headroom would be. Paced
 * at RATE itself, five requests granted 250 ms apart reach the fake 1,000 ms apart give or take
 * what happens between the grant and the request (the attempt's append, the connection): on a
 * loaded machine that varied by more than the fake's 100 ms of tolerance, one request was
 * refused, and its retry, due on the test's stopped clock, never came. At 3 a second five
 * requests span 1,333 ms, so only a delay of over 400 ms between two of them would be refused.
 * The pacer's exact spacing is pacer.test.ts's; here it is that the pacing is wired and keeps the
 * provider from refusing.
 */
const PACED_RATE = 3;
// Eight seconds of sends at the paced rate: a send waits its turn for up to eight seconds.
const BURST = 24;

describe("pacing emails to Resend's rate", () => {
  const closing: (TestServer | FakeResend)[] = [];
  afterAll(async () => {
    for (const closable of closing.reverse()) await closable.close();
  });

  /** A service on a fake Resend that refuses past RATE a second; sends BURST emails at once. */
  const burst = async (resendRatePerSecond: number) => {
    const resend = await startFakeResend({ apiKey: resendApiKey, ratePerSecond: RATE });
    closing.push(resend);
    const server = await startTestServer({
      providers: { resendApiKey, emailAddress, resendBaseUrl: resend.url, resendRatePerSecond },
      limits: { sendsPerIpPerHour: 100_000 },
    });
    closing.push(server);
    const client = createClient(server.url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const sent = await Promise.all(
      Array.from({ length: BURST }, (_, i) => client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `burst${i}`, channel: 'EMAIL', to: `burst.${i}@example.org` } })),
    );
    expect(sent.map((answer) => answer.status)).toEqual(Array.from({ length: BURST }, () => 202));
    return { resend, server, ids: sent.map((answer) => answer.body.challenge_id as string) };
  };

  it('sends a burst spaced to the rate, none refused, nothing recorded while a send waits', async () => {
    const { resend, server, ids } = await burst(PACED_RATE);
    await waitFor('every email sent', () => resend.sent.length === BURST, 20_000);
    expect(resend.requests).toHaveLength(BURST);
    const deliveryEvents = async (id: string) => (await challengeEvents(server, id)).filter((e) => e.type.startsWith('Delivery')).map((e) => e.type);
    // The last email accepted, its outcome may still be on its way to the log.
    for (const id of ids) await waitFor(`the outcome of ${id}`, async () => (await deliveryEvents(id)).includes('DeliverySucceeded'));
    for (const id of ids) expect(await deliveryEvents(id)).toEqual(['DeliveryAttempted', 'DeliverySucceeded']);
  });

  it('unpaced, the same burst is partly refused by the provider', async () => {
    const { resend } = await burst(10_000);
    await waitFor('every email tried once', () => resend.requests.length >= BURST, 15_000);
    expect(resend.sent.length).toBeLessThan(BURST);
  });
});
