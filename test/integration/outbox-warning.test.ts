/**
 * The development outbox on shared storage (a production setup) is announced at start: a
 * channel without a provider would otherwise write codes and destinations in clear to a file
 * while answering SENT. The embedded default, for development, stays quiet about it.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { startFakeProviders, type FakeProviders } from '../support/delivery.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const outboxWarnings = (server: TestServer) =>
  server.logs.map((line) => JSON.parse(line) as { level: string; msg: string; channels?: string[] }).filter((line) => line.msg.startsWith('no delivery provider'));

describe('the outbox in production', () => {
  const servers: TestServer[] = [];
  let fakes: FakeProviders | undefined;
  afterAll(async () => {
    for (const server of servers) await server.close();
    await fakes?.close();
  });

  it('warns at start on PostgreSQL, naming the channels left on the outbox', async () => {
    const server = await startTestServer({ backend: 'postgres' });
    servers.push(server);
    expect(outboxWarnings(server)).toEqual([expect.objectContaining({ level: 'warn', channels: ['SMS', 'EMAIL', 'WHATSAPP'] })]);
  });

  it('names only the channels without a provider, and says nothing once every channel has one', async () => {
    fakes = await startFakeProviders();
    const { twilioAccountSid, twilioAuthToken, twilioPhoneNumber, twilioBaseUrl } = fakes.providers;
    const smsOnly = await startTestServer({ backend: 'postgres', providers: { twilioAccountSid, twilioAuthToken, twilioPhoneNumber, twilioBaseUrl } });
    servers.push(smsOnly);
    expect(outboxWarnings(smsOnly)).toEqual([expect.objectContaining({ channels: ['EMAIL', 'WHATSAPP'] })]);
    const all = await startTestServer({ backend: 'postgres', providers: fakes.providers });
    servers.push(all);
    expect(outboxWarnings(all)).toEqual([]);
  });

  it('says nothing on the embedded default (development)', async () => {
    const server = await startTestServer({ backend: 'embedded' });
    servers.push(server);
    expect(outboxWarnings(server)).toEqual([]);
  });

  it('says nothing in an API process, which delivers nothing', async () => {
    const server = await startTestServer({ backend: 'postgres', role: 'api', worker: false });
    servers.push(server);
    expect(outboxWarnings(server)).toEqual([]);
  });
});
