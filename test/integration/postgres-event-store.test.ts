import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { WrongExpectedRevision, type AppendResult, type NewEvent } from '../../src/application/ports.js';
import { APPEND_LOCK_KEY, SELECT_STREAMS } from '../../src/infrastructure/postgres/event-store-schema.js';
import { createPostgresEventStore, eventStoreMigrations, type PostgresEventStore } from '../../src/infrastructure/postgres/event-store.js';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';

const events = (count: number, type = 'Happened'): NewEvent[] => Array.from({ length: count }, (_, i) => ({ type, data: { i } }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const eventually = async (condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
};
const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('postgres event store', () => {
  let schema: TestSchema;
  let admin: pg.Client;
  const closers: Array<() => Promise<void>> = [];

  /** One store with its own pool: a separate "process" as far as PostgreSQL can tell. */
  const openStore = (options: { maxBatch?: number; listenUrl?: string } = {}): PostgresEventStore => {
    const pool = new pg.Pool({ connectionString: schema.url, max: 4 });
    pool.on('error', () => undefined);
    const store = createPostgresEventStore({ pool, listenConnectionString: options.listenUrl ?? schema.url, ...options });
    closers.push(async () => {
      await store.close();
      await pool.end();
    });
    return store;
  };

  /** A raw session, ended after the test even when it fails. */
  const connectClient = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: schema.url });
    client.on('error', () => undefined);
    await client.connect();
    closers.push(() => client.end());
    return client;
  };

  /** Pid of the session waiting on a lock that `holder` holds. */
  const blockedBy = async (holder: pg.Client): Promise<number> => {
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    let pid: number | undefined;
    await eventually(async () => {
      const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holderPid]);
      pid = rows[0]?.pid;
      return pid !== undefined;
    });
    return pid!;
  };

  beforeEach(async () => {
    schema = await createTestSchema();
    admin = new pg.Client({ connectionString: schema.url });
    await admin.connect();
    const pool = new pg.Pool({ connectionString: schema.url });
    await migrate(pool, eventStoreMigrations);
    await pool.end();
  });

  afterEach(async () => {
    // Newest first: a raw session holding a lock must go before the store waiting on it.
    for (const close of closers.splice(0).reverse()) await close();
    await admin.end();
    await schema.drop();
  });

  describe('group commit', () => {
    it('writes 200 concurrent appends in far fewer transactions, one per append with maxBatch 1', async () => {
      const grouped = openStore();
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => grouped.append(`g-${i}`, events(1), 'no_stream')));
      expect(grouped.stats().appends).toBe(200);
      expect(grouped.stats().transactions).toBeLessThanOrEqual(5);
      expect(results.map((r) => r.position).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

      const single = openStore({ maxBatch: 1 });
      await Promise.all(Array.from({ length: 50 }, (_, i) => single.append(`s-${i}`, events(1), 'no_stream')));
      expect(single.stats()).toEqual({ appends: 50, transactions: 50, reads: 0, readStatements: 0 });
      expect(await single.headPosition()).toBe(250);
    });

    it('rejects only the conflicting callers of a batch, checking appends to one stream in order', async () => {
      const store = openStore();
      await store.append('a', events(1), 'no_stream');
      const before = store.stats().transactions;
      const outcomes = await Promise.allSettled([
        store.append('a', events(1), 'no_stream'),
        store.append('b', events(1, 'B0'), 'no_stream'),
        store.append('b', events(1, 'B1'), 0),
        store.append('b', events(1, 'Stale'), 0),
        store.append('c', events(1), 5),
        store.append('a', events(2), 0),
        store.append('d', [], 'no_stream'),
      ]);
      expect(store.stats().transactions).toBe(before + 1);
      const value = (i: number) => (outcomes[i] as PromiseFulfilledResult<AppendResult>).value;
      const reason = (i: number) => (outcomes[i] as PromiseRejectedResult).reason as unknown;
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
      expect(reason(0)).toBeInstanceOf(WrongExpectedRevision);
      expect(reason(0)).toMatchObject({ stream: 'a', expected: 'no_stream', actual: 0 });
      expect(reason(3)).toMatchObject({ stream: 'b', expected: 0, actual: 1 });
      expect(reason(4)).toMatchObject({ stream: 'c', expected: 5, actual: 'no_stream' });
      expect([value(1), value(2), value(5), value(6)]).toEqual([
        { revision: 0, position: 2 },
        { revision: 1, position: 3 },
        { revision: 2, position: 5 },
        { revision: -1, position: 0 },
      ]);
      expect((await store.readStream('b')).map((e) => e.type)).toEqual(['B0', 'B1']);
      expect(await store.headPosition()).toBe(5);
    });

    it('refuses a malformed expected revision on its own, leaving the rest of its batch alone', async () => {
      const store = openStore();
      const outcomes = await Promise.allSettled([
        store.append('fine', events(1), 'no_stream'),
        store.append('odd', events(1), 1.5),
        store.append('negative', events(1), -1),
        store.append('huge', events(1), 2 ** 40),
        store.append('also-fine', events(1), 'any'),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
      for (const o of outcomes.slice(1, 4)) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
      expect((await store.readAll(0, 10)).map((e) => e.stream)).toEqual(['fine', 'also-fine']);
    });

    it('acknowledges nothing before COMMIT, and rejects the whole batch when the transaction dies', async () => {
      const store = openStore();
      await store.append('kept', events(1), 'no_stream');
      const holder = await connectClient();
      await holder.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [APPEND_LOCK_KEY]);
      const settled: string[] = [];
      const appends = ['x', 'y', 'z'].map((stream) =>
        store.append(stream, events(1), 'no_stream').finally(() => void settled.push(stream)),
      );
      const writer = await blockedBy(holder);
      await sleep(50);
      expect(settled).toEqual([]);
      await admin.query('SELECT pg_terminate_backend($1)', [writer]);
      const errors = await Promise.all(appends.map(rejectionOf));
      errors.forEach((error) => expect(error).not.toBeInstanceOf(WrongExpectedRevision));
      await holder.end();
      expect(await store.append('x', events(1), 'no_stream')).toEqual({ revision: 0, position: 2 });
      expect((await store.readAll(0, 10)).map((e) => e.stream)).toEqual(['kept', 'x']);
    });

    it('translates a unique violation from a writer that bypassed the lock, failing only its caller', async () => {
      const store = openStore();
      const rogue = await connectClient();
      await rogue.query('BEGIN');
      await rogue.query(
        `INSERT INTO events (position, id, stream, revision, type, data, metadata, recorded_at)
         VALUES (1000, gen_random_uuid(), 'contested', 0, 'Rogue', '{}', '{}', now())`,
      );
      const contested = store.append('contested', events(1), 'no_stream');
      const bystander = store.append('bystander', events(1), 'no_stream');
      await blockedBy(rogue);
      await rogue.query('COMMIT');
      await rogue.end();
      const error = await rejectionOf(contested);
      expect(error).toBeInstanceOf(WrongExpectedRevision);
      expect(error).toMatchObject({ stream: 'contested', actual: 0 });
      expect(await bystander).toMatchObject({ revision: 0 });
      expect((await store.readStream('contested')).map((e) => e.type)).toEqual(['Rogue']);
    });

    it('waits for in-flight appends on close, and refuses appends afterwards', async () => {
      const store = openStore();
      const holder = await connectClient();
      await holder.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [APPEND_LOCK_KEY]);
      const pending = store.append('s', events(2), 'no_stream');
      await blockedBy(holder);
      let closed = false;
      const closing = store.close().then(() => (closed = true));
      await sleep(50);
      expect(closed).toBe(false);
      await holder.end();
      expect(await pending).toEqual({ revision: 1, position: 2 });
      await closing;
      await expect(store.append('s', events(1), 1)).rejects.toThrow('closed');
    });
  });

  describe('grouped reads', () => {
    it('answers concurrent stream reads with fewer statements, each caller exactly its own events', async () => {
      const store = openStore();
      const lengths = Array.from({ length: 30 }, (_, i) => i % 7); // streams 0, 7, 14... stay empty
      await Promise.all(lengths.map((length, i) => (length > 0 ? store.append(`r-${i}`, events(length, `T${i}`), 'no_stream') : Promise.resolve())));
      // Every stream from its start and from revision 2, plus a NUL name no stream can have.
      const asks = [...lengths.map((_, i) => ({ stream: `r-${i}`, from: 0 })), ...lengths.map((_, i) => ({ stream: `r-${i}`, from: 2 })), { stream: 'r-1\u0000', from: 0 }];
      const before = store.stats();
      const reads = await Promise.all(asks.map(({ stream, from }) => store.readStream(stream, { fromRevision: from })));
      const after = store.stats();
      expect(after.reads - before.reads).toBe(60);
      expect(after.readStatements - before.readStatements).toBeLessThan(10);
      asks.forEach(({ stream, from }, k) => {
        const i = Number(stream.slice(2));
        const expected = stream.includes('\u0000') ? [] : Array.from({ length: Math.max(0, lengths[i]! - from) }, (_, j) => ({ stream, revision: from + j, type: `T${i}`, data: { i: from + j } }));
        expect(reads[k]!.map(({ stream: s, revision, type, data }) => ({ stream: s, revision, type, data }))).toEqual(expected);
      });
      // A lone read is one statement of its own.
      expect((await store.readStream('r-3')).map((e) => e.revision)).toEqual([0, 1, 2]);
      expect(store.stats().readStatements).toBe(after.readStatements + 1);
    });

    it('answers the reads under way before close returns, so ending the pool next strands none', async () => {
      const pool = new pg.Pool({ connectionString: schema.url, max: 2 });
      const store = createPostgresEventStore({ pool, listenConnectionString: schema.url });
      await store.append('c', events(3), 'no_stream');
      const reads = Array.from({ length: 30 }, (_, i) => store.readStream('c', { fromRevision: i % 3 }));
      await store.close();
      await pool.end();
      expect((await Promise.all(reads)).map((r) => r.length)).toEqual(Array.from({ length: 30 }, (_, i) => 3 - (i % 3)));
    });

    it('fails every read of a statement that fails, and reads again once the table is back', async () => {
      const store = openStore();
      await store.append('s', events(2), 'no_stream');
      await admin.query('ALTER TABLE events RENAME TO events_away');
      const failed = await Promise.allSettled(Array.from({ length: 5 }, () => store.readStream('s')));
      expect(failed.map((o) => o.status)).toEqual(Array(5).fill('rejected'));
      await admin.query('ALTER TABLE events_away RENAME TO events');
      const again = await Promise.all(Array.from({ length: 5 }, () => store.readStream('s')));
      expect(again.map((r) => r.length)).toEqual(Array(5).fill(2));
    });
  });

  describe('several processes', () => {
    it('gives exactly one success per expected revision to two stores racing on one stream', async () => {
      const [a, b] = [openStore(), openStore()];
      for (let revision = -1; revision < 9; revision += 1) {
        const expected = revision < 0 ? ('no_stream' as const) : revision;
        const attempts = Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).append('hot', events(1), expected));
        const outcomes = await Promise.allSettled(attempts);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes) {
          if (o.status === 'rejected') expect(o.reason).toMatchObject({ name: 'WrongExpectedRevision', actual: revision + 1 });
        }
      }
      expect((await a.readStream('hot')).map((e) => e.revision)).toEqual([...Array(10).keys()]);
    });

    it('commits positions gap-free and in order under concurrent writers, so a tailing reader skips nothing', async () => {
      const [a, b] = [openStore({ maxBatch: 7 }), openStore({ maxBatch: 3 })];
      const reader = openStore();
      let writing = true;
      const tailed: number[] = [];
      const tail = (async () => {
        for (let after = 0; writing || after < (await reader.headPosition()); ) {
          const page = await reader.readAll(after, 1000);
          tailed.push(...page.map((e) => e.position));
          after = page.at(-1)?.position ?? after;
        }
      })();
      const writer = (store: PostgresEventStore, name: string) =>
        Promise.all(
          Array.from({ length: 8 }, async (_, lane) => {
            const results: AppendResult[] = [];
            for (let i = 0; i < 25; i += 1) results.push(await store.append(`${name}-${lane}`, events(1 + (i % 3)), i === 0 ? 'no_stream' : 'any'));
            return results;
          }),
        );
      const results = (await Promise.all([writer(a, 'a'), writer(b, 'b')])).flat(2);
      writing = false;
      await tail;
      const total = 2 * 8 * (9 * 1 + 8 * 2 + 8 * 3);
      expect(tailed).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      const all = await reader.readAll(0, total + 1);
      expect(all.map((e) => e.position)).toEqual(tailed);
      expect(new Set(results.map((r) => r.position)).size).toBe(results.length);
      results.forEach((r) => expect(all[r.position - 1]!.revision).toBe(r.revision));
    });

    // The listener's fallback poll runs every 5 s (event-store-listener.ts): delivered within 3 s is NOTIFY's doing.
    it('delivers events appended by another store to a subscriber within 3 s, sooner than the 5 s fallback poll', async () => {
      const [a, b] = [openStore(), openStore()];
      const seen: number[] = [];
      const subscription = b.subscribe(0, async (event) => void seen.push(event.position));
      await a.append('s', events(1), 'no_stream');
      await eventually(() => seen.length === 1);
      await sleep(200);
      const started = Date.now();
      await a.append('s', events(2), 0);
      await eventually(() => seen.length === 3, 3000);
      console.log(`cross-process delivery after ${Date.now() - started} ms`);
      await subscription.close();
      expect(seen).toEqual([1, 2, 3]);
    });

    it('re-listens after losing its connection and delivers what was committed meanwhile, once', async () => {
      const appName = `listener-${randomBytes(4).toString('hex')}`;
      const listenUrl = new URL(schema.url);
      listenUrl.searchParams.set('application_name', appName);
      const [a, b] = [openStore(), openStore({ listenUrl: listenUrl.toString() })];
      const seen: number[] = [];
      const subscription = b.subscribe(0, async (event) => void seen.push(event.position));
      const listenerPid = async () =>
        (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [appName])).rows[0]?.pid;
      await eventually(async () => (await listenerPid()) !== undefined);
      const first = (await listenerPid())!;
      await admin.query('SELECT pg_terminate_backend($1)', [first]);
      await a.append('s', events(2), 'no_stream');
      await eventually(() => seen.length === 2, 2000);
      await eventually(async () => ![undefined, first].includes(await listenerPid()));
      await a.append('s', events(1), 1);
      await eventually(() => seen.length === 3, 3000); // the new connection's NOTIFY, not the 5 s fallback poll
      await sleep(50);
      await subscription.close();
      expect(seen).toEqual([1, 2, 3]);
    });

    it('tells watchers in every process which streams each commit moved, and to which revision', async () => {
      const [a, b] = [openStore(), openStore()];
      const moved: string[] = [];
      let unknown = 0;
      b.watchStreams({ moved: (stream, revision) => void moved.push(`${stream}@${revision}`), unknown: () => void unknown++ });
      await eventually(() => unknown === 1); // listening now (and told that it missed what came before)
      await Promise.all([a.append('s', events(2), 'no_stream'), a.append('t', events(1), 'no_stream'), b.append('u', events(1), 'no_stream')]);
      await a.append('s', events(1), 1);
      await expect(a.append('s', events(1), 0)).rejects.toBeInstanceOf(WrongExpectedRevision); // refused: nothing to tell
      await eventually(() => moved.includes('s@2'));
      expect(moved.sort()).toEqual(['s@1', 's@2', 't@0', 'u@0']);
      expect(unknown).toBe(1);
    });

    it('splits a long list of streams over notifications under the 8000-byte limit, and names a stream too long to list as unknown', async () => {
      const [a, b] = [openStore({ maxBatch: 500 }), openStore()];
      const moved = new Set<string>();
      let unknown = 0;
      b.watchStreams({ moved: (stream) => void moved.add(stream), unknown: () => void unknown++ });
      await eventually(() => unknown === 1);
      const streams = Array.from({ length: 300 }, (_, i) => `stream-${String(i).padStart(3, '0')}-${'x'.repeat(60)}`); // ~22 KB of names
      await Promise.all(streams.map((stream) => a.append(stream, events(1), 'no_stream')));
      await eventually(() => moved.size === streams.length);
      expect(a.stats().transactions).toBeLessThan(streams.length); // they did share commits
      expect(unknown).toBe(1);
      await a.append(`long-${'y'.repeat(8000)}`, events(1), 'no_stream'); // the append itself still succeeds
      await eventually(() => unknown === 2);
      expect([...moved].some((stream) => stream.startsWith('long-'))).toBe(false);
    });

    it('tells a watcher that joins a listener already in place that it may have missed commits', async () => {
      const b = openStore();
      let first = 0;
      b.watchStreams({ moved: () => undefined, unknown: () => void first++ });
      await eventually(() => first === 1);
      let late = 0;
      b.watchStreams({ moved: () => undefined, unknown: () => void late++ });
      expect(late).toBe(1);
      expect(first).toBe(1);
    });

    it('tells watchers that streams may have moved unseen when the listening connection comes back', async () => {
      const appName = `watcher-${randomBytes(4).toString('hex')}`;
      const listenUrl = new URL(schema.url);
      listenUrl.searchParams.set('application_name', appName);
      const b = openStore({ listenUrl: listenUrl.toString() });
      let unknown = 0;
      b.watchStreams({ moved: () => undefined, unknown: () => void unknown++ });
      const listenerPid = async () =>
        (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [appName])).rows[0]?.pid;
      await eventually(async () => unknown === 1 && (await listenerPid()) !== undefined);
      await admin.query('SELECT pg_terminate_backend($1)', [(await listenerPid())!]);
      await eventually(() => unknown === 2, 3000);
    });

    it('reads everything back after a restart with a new pool, and continues the log', async () => {
      const first = openStore();
      await first.append('a', [{ type: 'One', data: { n: 1 }, metadata: { actor: 'x' } }], 'no_stream');
      await first.append('b', events(2), 'no_stream');
      const before = await first.readAll(0, 100);
      await closers.shift()!();
      const second = openStore();
      expect(await second.readAll(0, 100)).toEqual(before);
      expect(await second.readStream('a')).toEqual([before[0]]);
      expect(await second.headPosition()).toBe(3);
      await expect(second.append('a', events(1), 'no_stream')).rejects.toMatchObject({ actual: 0 });
      expect(await second.append('a', events(1), 0)).toEqual({ revision: 1, position: 4 });
    });
  });

  it("reads several streams through the stream index, even on a plan its connection cached while the log was small", async () => {
    const store = openStore();
    await store.append('a', events(2), 'no_stream');
    await store.append('b', events(1), 'no_stream');
    const session = await connectClient();
    const read = { name: 'probe-select-streams', text: SELECT_STREAMS, values: [['a', 'b', 'none'], [0, 1, 0]] };
    // Past the five custom plans after which PostgreSQL may keep a generic one for the session.
    for (let i = 0; i < 8; i++) await session.query(read);
    // The log grows under the cached plan, and no ANALYZE has run since.
    await admin.query(`INSERT INTO events SELECT g, gen_random_uuid(), 'other-' || g, 0, 'Happened', '{}', '{}', now() FROM generate_series(100, 40099) g`);
    const { rows } = await session.query<{ request: number; stream: string; revision: number }>(read);
    expect(rows.map(({ request, stream, revision }) => [request, stream, revision])).toEqual([
      [1, 'a', 0],
      [1, 'a', 1],
    ]);
    const plan = (await session.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE "probe-select-streams"('{a,b,none}', '{0,1,0}')`)).rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toContain('events_stream_revision_key');
    expect(plan).not.toContain('Seq Scan on events');
  });

  it('keeps the log append-only in the database', async () => {
    const store = openStore();
    await store.append('s', events(1), 'no_stream');
    await expect(admin.query("UPDATE events SET type = 'Forged'")).rejects.toThrow('append-only');
    await expect(admin.query('DELETE FROM events')).rejects.toThrow('append-only');
    await expect(admin.query('TRUNCATE events')).rejects.toThrow('append-only');
    expect((await store.readStream('s')).map((e) => e.type)).toEqual(['Happened']);
  });

  it('measures appends per second with 50 concurrent appenders (printed, not asserted)', async () => {
    const measure = async (store: PostgresEventStore, prefix: string): Promise<number> => {
      const end = Date.now() + 3000;
      let count = 0;
      await Promise.all(
        Array.from({ length: 50 }, async (_, lane) => {
          for (let revision = -1; Date.now() < end; revision += 1) {
            await store.append(`${prefix}-${lane}`, events(1), revision < 0 ? 'no_stream' : revision);
            count += 1;
          }
        }),
      );
      return count / 3;
    };
    const grouped = openStore();
    const groupedRate = await measure(grouped, 'grouped');
    const single = openStore({ maxBatch: 1 });
    const singleRate = await measure(single, 'single');
    console.log(
      `50 appenders, 3 s: grouped ${groupedRate.toFixed(0)} appends/s (${JSON.stringify(grouped.stats())}), ` +
        `maxBatch=1 ${singleRate.toFixed(0)} appends/s (${JSON.stringify(single.stats())})`,
    );
    expect(grouped.stats().transactions).toBeLessThan(grouped.stats().appends);
    expect(single.stats().transactions).toBe(single.stats().appends);
  }, 20000);
});
