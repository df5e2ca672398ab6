/**
 * A rolling upgrade, seen from the build that is older: a newer build appended an event with
 * optional fields this build does not know. This build still starts, projects, folds and serves
 * the stream; it leaves the unknown fields out of everything it returns, and logs each unknown
 * field once (its path, not its value). Embedded only: the log is edited between two runs of
 * one data directory, as the newer build would have written it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSqliteEventStore } from '../../src/infrastructure/event-store/sqlite-event-store.js';
import { accountStream } from '../../src/domain/account/events.js';
import { newOperator } from '../support/flows.js';
import { createClient } from '../support/http-client.js';
import { createTestClock, newKeys, startTestServer, type TestServer } from '../support/test-server.js';

const IGNORED = 'event field unknown to this build left out on read';

describe('an older build reading events a newer build wrote', () => {
  const keys = newKeys();
  const clock = createTestClock();
  let server: TestServer;
  let operator: Awaited<ReturnType<typeof newOperator>>;
  const logs: string[] = [];

  beforeAll(async () => {
    const first = await startTestServer({ backend: 'embedded', keys, clock });
    operator = await newOperator(createClient(first.url));
    await first.stop();

    // What the newer build appended: a failed sign-in carrying two fields this build lacks.
    const log = createSqliteEventStore({ filename: join(first.dataDir, 'events.sqlite'), clock });
    const stream = accountStream(operator.id);
    const [last] = (await log.readStream(stream)).slice(-1);
    const newer = { at: clock().toISOString(), client: 'c0ffee', risk_score: 0.93, device: { os: 'plan9' } };
    await log.append(stream, [{ type: 'LoginFailed', data: newer, metadata: { schema_version: 1 } }], last!.revision);
    await log.close();

    server = await startTestServer({ backend: 'embedded', keys, clock, dataDir: first.dataDir, logs });
  });
  afterAll(() => server.close());

  // Before tolerant reads this build did not even start on this log: rebuilding its read models
  // at start stopped at the event (CorruptEvent).
  it('starts, signs the operator in and shows the event in their history', async () => {
    const client = createClient(server.url);
    const login = await client.post('/api/auth/login', { body: { username: operator.username, password: operator.password } });
    expect(login.status).toBe(200);
    const history = await client.get('/api/auth/history', { token: login.body.access_token as string });
    expect(history.status).toBe(200);
    expect(history.text).toContain('LoginFailed');
    // The history's allow-list would hide them anyway; that they are left out on read is
    // checked in test/infrastructure/event-codecs.
    expect(history.text).not.toContain('risk_score');
    expect(history.text).not.toContain('plan9');
  });

  it('logs each unknown field once, by path, never its value', () => {
    const warned = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === IGNORED);
    expect(warned.map((line) => [line['level'], line['event_type'], line['field']]).sort()).toEqual([
      ['warn', 'LoginFailed', 'data.device'],
      ['warn', 'LoginFailed', 'data.risk_score'],
    ]);
    expect(logs.join('\n')).not.toContain('plan9');
    expect(logs.join('\n')).not.toContain('0.93');
  });
});
