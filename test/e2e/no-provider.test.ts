/**
 * A deployment without an outbox (production stores and no OUTBOX_FILE) delivers a channel only
 * through a provider. A channel nothing delivers is refused before a challenge is opened
 * (403 CHANNEL_NOT_ALLOWED naming the deployment), for sends and for sent-code enrollments
 * alike, instead of answering 202 for a code no one will get or writing it in clear to a file.
 * Channels with a provider work as before. An API process (PROCESS_ROLE=api) refuses nothing:
 * the providers' credentials may be on the workers only. A phone send does not fall back to a
 * channel nothing delivers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { challengeEvents, startFakeProviders, twilioRequestsTo, waitFor, type FakeProviders } from '../support/delivery.js';
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

  it('does not fall back to a channel nothing delivers: the send fails on its own channel', async () => {
    const { twilioAccountSid, twilioAuthToken, twilioWhatsappNumber, twilioBaseUrl } = fakes.providers;
    const whatsappOnly = await startTestServer({ outbox: false, providers: { twilioAccountSid, twilioAuthToken, twilioWhatsappNumber, twilioBaseUrl } });
    try {
      const other = createClient(whatsappOnly.url);
      const operator = await newOperator(other);
      const fallingBack = await newApp(other, operator.token, { channels: ['WHATSAPP', 'SMS'], fallback_channel: 'SMS' });
      fakes.twilio.script({ status: 400, code: 63024 });
      const sent = await other.post('/api/code/send', { apiKey: fallingBack.apiKey, body: { username: 'dee', channel: 'WHATSAPP', to: '+34612345670' } });
      expect(sent.status).toBe(202);
      const id = sent.body.challenge_id as string;
      await waitFor('the send failed', async () => (await other.get(`/api/code/${id}`, { apiKey: fallingBack.apiKey })).body.delivery.status === 'FAILED');
      const failed = (await challengeEvents(whatsappOnly, id)).filter((e) => e.type === 'DeliveryFailed');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.data).not.toHaveProperty('next_channel');
      expect(twilioRequestsTo(fakes.twilio, '+34612345670', 'SMS')).toHaveLength(0);
    } finally {
      await whatsappOnly.close();
    }
  });

  it('in an API process, refuses no channel: the workers hold the providers', async () => {
    // API processes run on shared storage beside a process that projects (here without providers either).
    const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-no-provider-'));
    const projecting = await startTestServer({ dataDir, backend: 'postgres', outbox: false });
    let api: TestServer | undefined;
    try {
      api = await startTestServer({ dataDir, backend: 'postgres', outbox: false, role: 'api', worker: false, keys: projecting.keys });
      const setup = createClient(projecting.url);
      const operator = await newOperator(setup);
      const anyApp = await newApp(setup, operator.token, { channels: ['EMAIL', 'SMS', 'WHATSAPP'] });
      const other = createClient(api.url);
      for (const channel of ['SMS', 'WHATSAPP'] as const) {
        const sent = await other.post('/api/code/send', { apiKey: anyApp.apiKey, body: { username: `eve-${channel}`, channel, to: '+34612345671' } });
        expect(sent.status).toBe(202);
      }
      expect(api.logs.some((line) => line.includes('sends on these channels are refused'))).toBe(false);
      // The process that delivers refuses them, as the others above.
      const refused = await setup.post('/api/code/send', { apiKey: anyApp.apiKey, body: { username: 'eve', channel: 'SMS', to: '+34612345671' } });
      expect([refused.status, refused.body.code]).toEqual([403, 'CHANNEL_NOT_ALLOWED']);
    } finally {
      await api?.stop();
      await projecting.close();
    }
  });
});
