/**
 * An operator holds at most APPS_PER_OPERATOR apps at once: each is a tenant with its own key and
 * sends, and GET /api/app answers them all. Past the limit, 403 until one is deleted; another
 * operator's apps do not count.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newOperator } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('apps per operator', () => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer({ limits: { appsPerOperator: 3 } });
    client = createClient(server.url);
  });
  afterAll(() => server.close());

  it('creates up to the limit, then answers 403 until one is deleted', async () => {
    const operator = await newOperator(client);
    const create = (name: string) => client.post('/api/app', { token: operator.token, body: { name } });
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      const created = await create(name);
      expect(created.status).toBe(201);
      ids.push(created.body.id as string);
    }
    const refused = await create('four');
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
    expect(refused.body.message).toContain('APPS_PER_OPERATOR');
    expect((await client.get('/api/app', { token: operator.token })).body).toHaveLength(3);

    // Another operator's apps are theirs.
    const other = await newOperator(client);
    expect((await client.post('/api/app', { token: other.token, body: { name: 'theirs' } })).status).toBe(201);

    expect((await client.delete(`/api/app/${ids[0]}`, { token: operator.token })).status).toBe(204);
    expect((await create('four')).status).toBe(201);
    expect((await create('five')).status).toBe(403);
  });
});
