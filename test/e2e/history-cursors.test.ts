/**
 * The history endpoints show no log position. The log is shared by every tenant: were a
 * position shown, the gap between two of a tenant's own events would count what all the
 * others wrote in between (their traffic, and when). Operator A's app, its end user and A's
 * own account write an event, operator B's write several, A's write another: every history of
 * A's shows opaque cursors only, pages with them, refuses a number or an altered cursor, and
 * takes its cursors back after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollTotp, newApp, newOperator, wrongCode } from '../support/flows.js';
import { createClient, type Client, type HttpResponse } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const CURSOR = /^c1\.[A-Za-z0-9_-]{22}$/;
type Entry = { cursor: string; event: string; details: Record<string, unknown> } & Record<string, unknown>;

describe('history cursors across tenants', () => {
  let server: TestServer;
  let client: Client;
  let a: Awaited<ReturnType<typeof newOperator>>;
  let appA: Awaited<ReturnType<typeof newApp>>;

  /** A's three histories: its app's, its end user's, its own account's (with a query string to add). */
  const histories = {
    app: (query = '') => client.get(`/api/app/${appA.id}/history${query ? `?${query}` : ''}`, { token: a.token }),
    user: (query = '') => client.get(`/api/otp/history?username=ann${query ? `&${query}` : ''}`, { apiKey: appA.apiKey }),
    account: (query = '') => client.get(`/api/auth/history${query ? `?${query}` : ''}`, { token: a.token }),
  };
  const lastEvents = { app: 'AppRenamed', user: 'EnrollmentVerificationFailed', account: 'LoginSucceeded' } as const;

  /** The whole history once its last event shows (a user's page waits for the challenges' projection). */
  const whole = async (which: keyof typeof histories): Promise<HttpResponse> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await histories[which]();
      expect(response.status).toBe(200);
      const events = response.body.events as Entry[];
      if ((events.at(-1)?.event === lastEvents[which] && events.length >= 3) || Date.now() > deadline) return response;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    server = await startTestServer();
    client = createClient(server.url);
    a = await newOperator(client);
    appA = await newApp(client, a.token);
    const b = await newOperator(client);
    const appB = await newApp(client, b.token);

    // A writes...
    expect((await client.put(`/api/app/${appA.id}`, { token: a.token, body: { name: 'A, before' } })).status).toBe(200);
    await enrollTotp(client, appA.apiKey, 'ann', server.clock);
    // ...B writes a lot...
    for (let i = 0; i < 6; i++) expect((await client.put(`/api/app/${appB.id}`, { token: b.token, body: { name: `B ${i}` } })).status).toBe(200);
    await enrollTotp(client, appB.apiKey, 'bob', server.clock);
    for (let i = 0; i < 3; i++) await client.post('/api/code/verify', { apiKey: appB.apiKey, body: { username: 'bob', otp: wrongCode() } });
    expect((await client.post('/api/auth/login', { body: { username: b.username, password: b.password } })).status).toBe(200);
    // ...A writes again.
    expect((await client.put(`/api/app/${appA.id}`, { token: a.token, body: { name: 'A, after' } })).status).toBe(200);
    expect((await client.post('/api/code/verify', { apiKey: appA.apiKey, body: { username: 'ann', otp: wrongCode() } })).status).toBe(401);
    const relogin = await client.post('/api/auth/login', { body: { username: a.username, password: a.password } });
    expect(relogin.status).toBe(200);
    a = { ...a, token: relogin.body.access_token as string };
  });
  afterAll(() => server.close());

  it.each(['app', 'user', 'account'] as const)("shows A's %s history with opaque cursors only: no log position anywhere", async (which) => {
    const response = await whole(which);
    const events = response.body.events as Entry[];
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(response.text).not.toMatch(/"position"/);
    expect(response.body.next_after).toBeNull();
    for (const entry of events) {
      expect(entry.cursor).toMatch(CURSOR);
      expect(entry).not.toHaveProperty('position');
      // Outside an event's own details (a policy's numbers, a count), no number at all.
      const { details: _details, ...rest } = entry;
      expect(Object.values(rest).filter((value) => typeof value === 'number')).toEqual([]);
    }
    expect(new Set(events.map((e) => e.cursor)).size).toBe(events.length);
  });

  it.each(['app', 'user', 'account'] as const)("pages A's %s history by its cursors: after an entry's cursor come the entries after it", async (which) => {
    const events = (await whole(which)).body.events as Entry[];
    for (let i = 0; i < events.length; i++) {
      const page = await histories[which](`after=${encodeURIComponent(events[i]!.cursor)}&limit=1`);
      expect(page.status).toBe(200);
      expect(page.body.events).toEqual(events.slice(i + 1, i + 2));
      expect(page.body.next_after).toBe(i + 2 < events.length ? events[i + 1]!.cursor : null);
    }
    // Following next_after from the start, one entry a page, gives the whole history back.
    const pages: Entry[] = [];
    for (let after: string | null = '', n = 0; after !== null && n <= events.length; n++) {
      const page = await histories[which](`limit=1${after ? `&after=${after}` : ''}`);
      pages.push(...(page.body.events as Entry[]));
      after = page.body.next_after as string | null;
    }
    expect(pages).toEqual(events);
  });

  it.each(['app', 'user', 'account'] as const)("refuses a log position or an altered cursor as `after` of A's %s history: 400 naming after", async (which) => {
    const events = (await whole(which)).body.events as Entry[];
    const cursor = events[0]!.cursor;
    const altered = [
      cursor.slice(0, 10) + (cursor[10] === 'A' ? 'B' : 'A') + cursor.slice(11),
      cursor.slice(0, -1) + (cursor.at(-1) === 'A' ? 'Q' : 'A'),
      `c1.${Buffer.from(cursor.slice(3), 'base64url').reverse().toString('base64url')}`,
    ];
    for (const after of ['5', '0', '1', String(Number.MAX_SAFE_INTEGER), ...altered]) {
      const response = await histories[which](`after=${encodeURIComponent(after)}`);
      expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(response.body.details).toEqual([{ field: 'after', message: expect.stringContaining('cursor') }]);
    }
  });

  it('takes the cursors it gave back after a restart (they are keyed by the deployment, not the process)', async () => {
    const before = (await whole('app')).body.events as Entry[];
    await server.stop();
    server = await startTestServer({ dataDir: server.dataDir, keys: server.keys, clock: server.clock });
    client = createClient(server.url);
    const again = await whole('app');
    expect(again.body.events).toEqual(before);
    expect((await histories.app(`after=${before[0]!.cursor}`)).body.events).toEqual(before.slice(1));
  });
});
