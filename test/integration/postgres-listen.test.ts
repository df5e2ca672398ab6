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

  it('serves two channels over one connection, each listener hearing its own, until the last one closes', async () => {
    const appName = `listen-${randomUUID().slice(0, 8)}`;
    const url = `${schema.url}${schema.url.includes('?') ? '&' : '?'}application_name=${appName}`;
    const backends = async () => Number((await admin.query('SELECT count(*) FROM pg_stat_activity WHERE application_name = $1', [appName])).rows[0].count);
    const heard = { a: [] as string[], b: [] as string[] };
    const events: string[] = [];
    const open = (name: 'a' | 'b') =>
      listen({
        connectionString: url,
        channel: `otp_listen_test_${name}`,
        onNotification: (payload) => void heard[name].push(payload ?? ''),
        onListening: () => void events.push(`${name} listening`),
        onLost: () => void events.push(`${name} lost`),
        retryMs: { min: 20, max: 100 },
      });
    const a = open('a');
    const b = open('b');
    try {
      await eventually(() => a.listening() && b.listening(), 'both listening');
      expect(await backends()).toBe(1);
      await admin.query("SELECT pg_notify('otp_listen_test_a', 'for a'), pg_notify('otp_listen_test_b', 'for b')");
      await eventually(() => heard.a.length === 1 && heard.b.length === 1, 'each hears its notification');
      expect(heard).toEqual({ a: ['for a'], b: ['for b'] });

      // A lost connection is lost for both, and both listen again on the next one.
      events.length = 0;
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]);
      await eventually(() => events.filter((e) => e.endsWith('listening')).length === 2, 'both listening again');
      expect(events.slice(0, 2).sort()).toEqual(['a lost', 'b lost']);
      expect(await backends()).toBe(1);

      await a.close();
      await admin.query("SELECT pg_notify('otp_listen_test_a', 'after close'), pg_notify('otp_listen_test_b', 'still here')");
      await eventually(() => heard.b.length === 2, 'b still hears');
      expect(heard.a).toEqual(['for a']);
      expect(await backends()).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
    await eventually(async () => (await backends()) === 0, 'the connection closes with the last listener');
  });
});
