/**
 * A deployment without an outbox (production stores and no OUTBOX_FILE) delivers a channel only
 * through a provider. A channel nothing delivers is refused before a challenge is opened
 * (403 CHANNEL_NOT_ALLOWED naming the deployment), for sends and for sent-code enrollments
 * alike, instead of answering 202 for a code no one will get or writing it in clear to a file.
 * Channels with a provider work as before.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { startFakeProviders, waitFor, type FakeProviders } from '../support/delivery.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('a channel no provider delivers', () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let app: { id: string; apiKey: string };

  beforeAll(async () => {
    fakes = await startFakeProviders();
    const { resendApiKey, emailAddress, resendBaseUrl } = fakes.providers;
    server = await startTestServer({ outbox: false, providers: { resendApiKey, emailAddress, resendBaseUrl } });
    client = createClient(server.url);
    const operator = await newOperator(client);
    app = await newApp(client, operator.token, { channels: ['EMAIL', 'SMS', 'WHATSAPP'] });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  it('says so at start, naming the channels', () => {
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'no delivery provider: sends on these channels are refused');
    expect(line).toMatchObject({ level: 'warn', channels: ['SMS', 'WHATSAPP'] });
  });

  it.each(['SMS', 'WHATSAPP'] as const)('refuses a %s send with 403 CHANNEL_NOT_ALLOWED, opening no challenge', async (channel) => {
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'ana', channel, to: '+34612345678' } });
    expect([sent.status, sent.body.code, sent.body.message]).toEqual([403, 'CHANNEL_NOT_ALLOWED', `No provider delivers the ${channel} channel in this deployment`]);
    const history = await client.get('/api/otp/history?username=ana', { apiKey: app.apiKey });
    expect([history.status, history.body.events]).toEqual([200, []]);
    expect(existsSync(server.outboxFile)).toBe(false);
    expect(fakes.twilio.requests).toHaveLength(0);
  });

  it('refuses a sent-code enrollment on such a channel the same way', async () => {
    const registered = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'bea', otp_method: 'SMS', destination: '+34612345679' } });
    expect([registered.status, registered.body.code]).toEqual([403, 'CHANNEL_NOT_ALLOWED']);
  });

  it('still sends on a channel with a provider', async () => {
    const sent = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'cai', channel: 'EMAIL', to: 'cai@example.org' } });
    expect(sent.status).toBe(202);
    await waitFor('the email sent', () => fakes.resend.sent.length === 1);
  });
});
