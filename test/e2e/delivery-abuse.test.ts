/**
 * SMS pumping and other send abuse, played out over HTTP against the real service with a fake
 * Twilio: sequential numbers in one block, refused countries, the app's daily budget and the
 * per-IP cap are each refused before any provider is called, answered 429 (with Retry-After)
 * or 403, and recorded as SendRefused in the app's abuse log with a masked number only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../src/application/ports.js';
import { providerSecrets, readStream, startFakeProviders, startWithFakeProviders, twilioCode, twilioRequestsTo, type FakeProviders } from '../support/delivery.js';
import { newApp, newOperator } from '../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { findLeaks, logHaystacks, phoneNeedles, recordingClient, type Haystack, type Needle } from '../support/leaks.js';
import { settle } from '../support/settle.js';
import { startTestServer, testBackend, type TestServer } from '../support/test-server.js';

// Redis windows follow Redis's own clock, which the test clock cannot move: window expiry is
// checked here on the embedded backend only (the Redis contract suite covers it in real time).
const clockMovesWindows = testBackend() === 'embedded';

type App = { id: string; apiKey: string };

const refusals = async (server: TestServer, app: App): Promise<RecordedEvent[]> =>
  (await readStream(server, `abuse-${app.id}`)).filter((e) => e.type === 'SendRefused') as RecordedEvent[];
const refusalData = (events: RecordedEvent[]) => events.map((e) => e.data as { app_id: string; reason: string; to_hint?: string; client?: string; at: string });

/** The masked form the service shows: country code and the last two digits. */
const masked = (e164: string, country: string) => `+${country} *** *** ${e164.slice(-2)}`;

const expectRateLimited = (response: HttpResponse) => {
  expect(response.status).toBe(429);
  expect(response.body).toMatchObject({ error: true, code: 'RATE_LIMITED' });
  expect(response.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
};

describe('send abuse', () => {
  let fakes: FakeProviders;
  let server: TestServer;
  let client: Client;
  let answers: () => Haystack[];
  let newAppWith: (policy: object) => Promise<App>;
  const phones: [string, string][] = [];
  let n = 0;
  // The end user's address, as the app's backend passes it (recorded in refusals as a keyed hash).
  const attacker = '192.0.2.44';
  const send = (app: App, to: string, channel = 'SMS') => {
    if (to.startsWith('+')) phones.push([to, to.startsWith('+34') ? '34' : to.startsWith('+44') ? '44' : '1']);
    return client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `victim${n++}`, channel, to, end_user_ip: attacker } });
  };

  beforeAll(async () => {
    // Every send names one end-user address: a high per-IP cap, so the caps under test are what bite.
    ({ fakes, server, client, answers } = await startWithFakeProviders({ limits: { sendsPerIpPerHour: 100_000 } }));
    const operator = await newOperator(client);
    newAppWith = async (policy) => {
      const token = (await client.post('/api/auth/login', { body: { username: operator.username, password: operator.password } })).body.access_token;
      return newApp(client, token, policy);
    };
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  it("tags a refused send's address per operator: one operator's apps share a tag, another operator's differs", async () => {
    const refusedTag = async (app: App) => {
      const to = `tag.${n}@example.org`;
      expect((await send(app, to, 'EMAIL')).status).toBe(202);
      const refused = await send(app, to, 'EMAIL');
      expectRateLimited(refused);
      // The answer names the cap as the app's history does.
      expect([refused.body.reason, refused.body.message]).toEqual(['RECIPIENT_CAP', expect.stringContaining('max_sends_per_recipient_per_hour')]);
      const [refusal] = refusalData(await refusals(server, app));
      expect(refusal).toMatchObject({ reason: 'RECIPIENT_CAP', client: expect.stringMatching(/^[0-9a-f]{16}$/) });
      return refusal!.client;
    };
    const policy = { max_sends_per_recipient_per_hour: 1 };
    const [mine, alsoMine] = [await refusedTag(await newAppWith(policy)), await refusedTag(await newAppWith(policy))];
    const elsewhere = await refusedTag(await newApp(client, (await newOperator(client)).token, policy));
    expect(alsoMine).toBe(mine);
    // Any app names any address in end_user_ip: a tag another operator could reproduce would
    // let it match addresses against tags in someone else's records.
    expect(elsewhere).not.toBe(mine);
  });

  it('sequential numbers in one block: Twilio gets no more than the block cap, the rest are 429 and logged', async () => {
    const app = await newAppWith({ max_sends_per_number_block_per_hour: 10 });
    const numbers = Array.from({ length: 60 }, (_, i) => `+34600000${String(i).padStart(3, '0')}`);
    const responses: HttpResponse[] = [];
    for (const to of numbers) responses.push(await send(app, to));

    expect(responses.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(202));
    for (const refused of responses.slice(10)) {
      expectRateLimited(refused);
      expect(refused.body.reason).toBe('NUMBER_BLOCK_CAP');
    }
    await settle(server);
    const reached = numbers.filter((to) => twilioRequestsTo(fakes.twilio, to).length > 0);
    expect(reached).toEqual(numbers.slice(0, 10));
    expect(numbers.flatMap((to) => twilioRequestsTo(fakes.twilio, to))).toHaveLength(10);

    const logged = refusalData(await refusals(server, app));
    expect(logged).toHaveLength(50);
    expect(logged.map((r) => r.reason)).toEqual(Array(50).fill('NUMBER_BLOCK_CAP'));
    expect(logged.map((r) => r.to_hint)).toEqual(numbers.slice(10).map((to) => masked(to, '34')));
    for (const r of logged) {
      expect(r.app_id).toBe(app.id);
      expect(r.client).toMatch(/^[0-9a-f]{16}$/);
    }

    // Another block of the same app is not affected.
    expect((await send(app, '+34611000000')).status).toBe(202);
    // The block opens again once the hour has passed.
    if (clockMovesWindows) {
      server.clock.advance(3_601_000);
      expect((await send(app, '+34600000059')).status).toBe(202);
    }
  });

  it('numbers of a country the app does not allow: 403 COUNTRY_NOT_ALLOWED, Twilio gets nothing', async () => {
    const app = await newAppWith({ allowed_countries: ['34'] });
    const foreign: [string, string, string][] = [
      ['+12015550123', '1', 'SMS'],
      ['+14155552671', '1', 'WHATSAPP'],
      ['+447911123456', '44', 'SMS'],
      ['+447911123457', '44', 'WHATSAPP'],
    ];
    for (const [to, , channel] of foreign) {
      const refused = await send(app, to, channel);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ error: true, code: 'COUNTRY_NOT_ALLOWED' });
    }
    // An enrollment to such a number is refused the same way.
    const enrollment = await client.post('/api/otp/register', { apiKey: app.apiKey, body: { username: 'abroad', otp_method: 'SMS', destination: '+447911123458' } });
    phones.push(['+447911123458', '44']);
    expect(enrollment.status).toBe(403);
    expect(enrollment.body.code).toBe('COUNTRY_NOT_ALLOWED');
    expect((await send(app, '+34622333444')).status).toBe(202);

    await settle(server);
    for (const to of [...foreign.map(([to]) => to), '+447911123458']) {
      expect(twilioRequestsTo(fakes.twilio, to, 'SMS')).toHaveLength(0);
      expect(twilioRequestsTo(fakes.twilio, to, 'WHATSAPP')).toHaveLength(0);
    }
    expect(twilioRequestsTo(fakes.twilio, '+34622333444')).toHaveLength(1);
    const logged = refusalData(await refusals(server, app));
    expect(logged.map((r) => [r.reason, r.to_hint])).toEqual([
      ...foreign.map(([to, country]) => ['COUNTRY_NOT_ALLOWED', masked(to, country)]),
      ['COUNTRY_NOT_ALLOWED', masked('+447911123458', '44')],
    ]);
  });

  it("the app's daily budget: 429 once spent, other apps unaffected (and open again the next day)", async () => {
    const app = await newAppWith({ max_sends_per_app_per_day: 3 });
    const other = await newAppWith({});
    const numbers = ['+34655000001', '+34656000002', '+34657000003', '+34658000004'];
    for (const to of numbers.slice(0, 3)) expect((await send(app, to)).status).toBe(202);
    expectRateLimited(await send(app, numbers[3]!));
    expectRateLimited(await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'mail', channel: 'EMAIL', to: 'budget@example.org' } }));
    expect((await send(other, numbers[3]!)).status).toBe(202);

    await settle(server);
    expect(twilioRequestsTo(fakes.twilio, numbers[3]!)).toHaveLength(1);
    expect(fakes.resend.requests.filter((r) => JSON.stringify(r.body['to']) === '["budget@example.org"]')).toHaveLength(0);
    const logged = refusalData(await refusals(server, app));
    expect(logged.map((r) => [r.reason, r.to_hint])).toEqual([
      ['APP_DAILY_BUDGET', masked(numbers[3]!, '34')],
      ['APP_DAILY_BUDGET', 'b***@example.org'],
    ]);
    expect(await refusals(server, other)).toHaveLength(0);

    if (clockMovesWindows) {
      server.clock.advance(86_401_000);
      expect((await send(app, '+34659000005')).status).toBe(202);
    }
  });

  it('sends refused by another cap do not spend the daily budget', async () => {
    const app = await newAppWith({ max_sends_per_app_per_day: 5, max_sends_per_number_block_per_hour: 2 });
    const block = ['+34671000001', '+34671000002', '+34671000003', '+34671000004', '+34671000005'];
    const statuses = [];
    for (const to of block) statuses.push((await send(app, to)).status);
    expect(statuses).toEqual([202, 202, 429, 429, 429]);
    expect(refusalData(await refusals(server, app)).map((r) => r.reason)).toEqual(Array(3).fill('NUMBER_BLOCK_CAP'));
    // Two codes sent of five: three more may go to other blocks.
    const others = ['+34672000001', '+34673000001', '+34674000001'];
    for (const to of others) expect((await send(app, to)).status).toBe(202);
    expectRateLimited(await send(app, '+34675000001'));
  });

  it('lets no provider secret, code or full phone number into a log line, an error answer or the abuse log', async () => {
    await settle(server);
    const codes = fakes.twilio.sent.map((m) => twilioCode(m.form));
    expect(codes.length).toBeGreaterThanOrEqual(15);
    const needles: Needle[] = [
      ...providerSecrets.map((value) => ({ kind: 'provider secret', value })),
      ...codes.map((value) => ({ kind: 'code', value })),
      ...phones.flatMap(([to, country]) => phoneNeedles(to, country)),
    ];
    const abuseLog = (await server.service.deps.store.readAll(0, 100_000))
      .filter((e) => e.stream.startsWith('abuse-'))
      .map((e, i) => ({ where: `abuse event ${i}`, text: JSON.stringify(e) }));
    expect(abuseLog.length).toBeGreaterThanOrEqual(60);
    expect(findLeaks([...logHaystacks(server.logs), ...answers(), ...abuseLog], needles)).toEqual([]);
    // The client field is a keyed hash, never the address.
    expect(abuseLog.some((e) => e.text.includes(attacker))).toBe(false);
  });
});

describe('the per-IP send cap', () => {
  let fakes: FakeProviders;
  let server: TestServer;

  beforeAll(async () => {
    fakes = await startFakeProviders();
    server = await startTestServer({ providers: fakes.providers, limits: { sendsPerIpPerHour: 3 } });
  });
  afterAll(async () => {
    await server.close();
    await fakes.close();
  });

  const abuseText = async (app: App) => JSON.stringify(await refusals(server, app));

  it("counts every send for one end-user address across an operator's apps and channels; the next is 429 and logged", async () => {
    const recording = recordingClient(createClient(server.url));
    const client = recording.client;
    const operator = await newOperator(client);
    const first = await newApp(client, operator.token);
    const second = await newApp(client, operator.token);
    const user = '203.0.113.5';
    const send = (app: App, body: object) => client.post('/api/code/send', { apiKey: app.apiKey, body: { ...body, end_user_ip: user } });

    expect((await send(first, { username: 'a', channel: 'SMS', to: '+34681000001' })).status).toBe(202);
    expect((await send(first, { username: 'b', channel: 'EMAIL', to: 'b@example.org' })).status).toBe(202);
    const register = { username: 'c', otp_method: 'SMS', destination: '+34682000001', end_user_ip: user };
    expect((await client.post('/api/otp/register', { apiKey: second.apiKey, body: register })).status).toBe(201);
    const refused = await send(second, { username: 'd', channel: 'SMS', to: '+34683000001' });
    expectRateLimited(refused);
    // Another end user of the same backend has an allowance of their own.
    const other = await client.post('/api/code/send', { apiKey: second.apiKey, body: { username: 'e', channel: 'SMS', to: '+34684000001', end_user_ip: '203.0.113.6' } });
    expect(other.status).toBe(202);
    // Another operator's app naming the same address has its own: no tenant can spend another's.
    const elsewhere = await newApp(client, (await newOperator(client)).token);
    expect((await send(elsewhere, { username: 'f', channel: 'EMAIL', to: 'f@example.org' })).status).toBe(202);

    await settle(server);
    expect(twilioRequestsTo(fakes.twilio, '+34683000001')).toHaveLength(0);
    expect(refusalData(await refusals(server, second)).map((r) => [r.reason, r.to_hint])).toEqual([['IP_CAP', masked('+34683000001', '34')]]);
    expect(refusalData(await refusals(server, second))[0]!.client).toMatch(/^[0-9a-f]{16}$/);
    expect(await abuseText(second)).not.toContain(user); // a keyed hash, never the address
    expect(await refusals(server, first)).toHaveLength(0);

    if (clockMovesWindows) {
      server.clock.advance(3_601_000);
      expect((await send(second, { username: 'd', channel: 'SMS', to: '+34683000001' })).status).toBe(202);
    }
    await settle(server);

    const codes = fakes.twilio.sent.map((m) => twilioCode(m.form));
    const needles: Needle[] = [
      ...providerSecrets.map((value) => ({ kind: 'provider secret', value })),
      ...codes.map((value) => ({ kind: 'code', value })),
      ...['+34681000001', '+34682000001', '+34683000001', '+34684000001'].flatMap((to) => phoneNeedles(to, '34')),
    ];
    expect(findLeaks([...logHaystacks(server.logs), ...recording.answers], needles)).toEqual([]);
  });

  it('counts an IPv6 end user by its /64, and an IPv4 address written as IPv6 as that address', async () => {
    const client = createClient(server.url);
    const app = await newApp(client, (await newOperator(client)).token);
    const send = (end_user_ip: string) =>
      client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `u${n++}`, channel: 'EMAIL', to: `u${n}@example.org`, end_user_ip } });
    let n = 0;
    expect((await send('2001:db8:5:6::1')).status).toBe(202);
    expect((await send('2001:DB8:5:6:aaaa:bbbb:cccc:dddd')).status).toBe(202);
    expect((await send('2001:0db8:0005:0006:ffff::')).status).toBe(202);
    expectRateLimited(await send('2001:db8:5:6::2'));
    expect((await send('2001:db8:5:7::1')).status).toBe(202); // the next /64 is someone else

    expect((await send('198.51.100.9')).status).toBe(202);
    expect((await send('::ffff:198.51.100.9')).status).toBe(202);
    expect((await send('198.51.100.9')).status).toBe(202);
    expectRateLimited(await send('::FFFF:198.51.100.9'));
  });

  it("does not count an app backend's own address: its sends without end_user_ip are held by the other caps", async () => {
    const client = createClient(server.url);
    const app = await newApp(client, (await newOperator(client)).token, { max_sends_per_app_per_day: 5 });
    const send = (i: number) => client.post('/api/code/send', { apiKey: app.apiKey, body: { username: `b${i}`, channel: 'EMAIL', to: `b${i}@example.org` } });
    for (let i = 0; i < 5; i++) expect((await send(i)).status).toBe(202); // more than the per-IP cap of 3
    expectRateLimited(await send(5));
    expect(refusalData(await refusals(server, app)).map((r) => [r.reason, r.client])).toEqual([['APP_DAILY_BUDGET', undefined]]);
  });

  it("counts an operator's own address when the operator sends with a JWT", async () => {
    const client = createClient(server.url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    const send = (i: number) =>
      client.post('/api/code/send', { token: operator.token, body: { app_id: app.id, username: `o${i}`, channel: 'EMAIL', to: `o${i}@example.org` } });
    for (let i = 0; i < 3; i++) expect((await send(i)).status).toBe(202);
    expectRateLimited(await send(3));
    expect(refusalData(await refusals(server, app)).map((r) => r.reason)).toEqual(['IP_CAP']);
    expect(await abuseText(app)).not.toContain('127.0.0.1');
  });

  it('refuses an end_user_ip that is not an IP address, naming the field', async () => {
    const client = createClient(server.url);
    const app = await newApp(client, (await newOperator(client)).token);
    for (const end_user_ip of ['example.org', '999.1.1.1', '1.2.3', '2001:db8::1::2', '', 7]) {
      const answer = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'x', channel: 'EMAIL', to: 'x@example.org', end_user_ip } });
      expect(answer.status).toBe(400);
      expect(answer.body.details).toEqual([{ field: 'end_user_ip', message: 'must be an IPv4 or IPv6 address' }]);
    }
  });
});
