/**
 * LISTEN connections are shared: listeners on one database with the same timings (the event
 * store's commits and the vault's destroyed keys) use one connection per process, each hearing
 * only its channel, all told of a loss and of listening again.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { listen } from '../../src/infrastructure/postgres/listen.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';

const eventually = async (check: () => boolean | Promise<boolean>, what: string): Promise<void> => {
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) if (await check()) return;
  throw new Error(`not within 5 s: ${what}`);
};

describe('shared LISTEN connection', () => {
  let schema: TestSchema;
  let admin: pg.Pool;
  beforeAll(async () => {
    schema = await createTestSchema();
    admin = new pg.Pool({ connectionString: schema.url, max: 2 });
  });
  afterAll(async () => {
    await admin.end();
    await schema.drop();
  });

  it('refuses a channel name PostgreSQL would fold or reject', () => {
    const options = { connectionString: schema.url, onNotification: () => undefined, onListening: () => undefined };
    expect(() => listen({ ...options, channel: 'MixedCase' })).toThrow(/lower-case identifier/);
    expect(() => listen({ ...options, channel: 'a; DROP TABLE x' })).toThrow(/lower-case identifier/);
  });

  it('serves two channels over one connection, each listener hearing its own, until the last one closes', async () => {
    const appName = `listen-${randomUUID().slice(0, 8)}`;
    const url = `${schema.url}${schema.url.includes('?') ? '&' : '?'}application_name=${appName}`;
    const backends = async () => Number((await admin.query('SELECT count(*) FROM pg_stat_activity WHERE application_name = $1', [appName])).rows[0].count);
    const heard = { a: [] as string[], b: [] as string[], c: [] as string[] };
    const events: string[] = [];
    const open = (name: 'a' | 'b' | 'c') =>
      listen({
        connectionString: url,
        channel: `otp_listen_test_${name}`,
        onNotification: (payload) => void heard[name].push(payload ?? ''),
        onListening: () => void events.push(`${name} listening`),
        onLost: () => void events.push(`${name} lost`),
        retryMs: { min: 20, max: 100 },
      });
    const a = open('a');
    let b: ReturnType<typeof listen> | undefined;
    try {
      await eventually(() => a.listening(), 'a listening');
      b = open('b'); // added to the live connection: LISTENs for its channel there
      await eventually(() => b!.listening(), 'b listening');
      expect(await backends()).toBe(1);
      await admin.query("SELECT pg_notify('otp_listen_test_a', 'for a'), pg_notify('otp_listen_test_b', 'for b')");
      await eventually(() => heard.a.length === 1 && heard.b.length === 1, 'each hears its notification');
      expect(heard).toEqual({ a: ['for a'], b: ['for b'], c: [] });

      // A lost connection is lost for both, and both listen again on the next one.
      events.length = 0;
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]);
      const c = open('c'); // arrives while the connection is being lost and reopened
      await eventually(() => events.filter((e) => e.endsWith('listening')).length === 3, 'all three listening');
      expect(events.filter((e) => e.endsWith('lost')).sort()).toEqual(['a lost', 'b lost']);
      expect(await backends()).toBe(1);
      await admin.query("SELECT pg_notify('otp_listen_test_c', 'for c')");
      await eventually(() => heard.c.length === 1, 'c hears its notification');
      await c.close();

      expect(b.listening()).toBe(true);
      await a.close();
      await admin.query("SELECT pg_notify('otp_listen_test_a', 'after close'), pg_notify('otp_listen_test_b', 'still here')");
      await eventually(() => heard.b.length === 2, 'b still hears');
      expect(heard.a).toEqual(['for a']);
      expect(await backends()).toBe(1);
    } finally {
      await a.close();
      await b?.close();
    }
    await eventually(async () => (await backends()) === 0, 'the connection closes with the last listener');
  });
});
