/**
 * Projections on PostgreSQL across processes: each "process" is its own pool and read-models
 * instance over one schema. A trigger logs every committed document change, so an event
 * applied twice (a merge replayed) shows up as two log rows; another logs every statement
 * that moves checkpoints, one per batch transaction.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import type { EventStore, NewEvent } from '../../src/application/ports.js';
import type { Projection } from '../../src/application/read-models.js';
import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';
import { createPostgresEventStore, eventStoreMigrations, type PostgresEventStore } from '../../src/infrastructure/postgres/event-store.js';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';
import { MOVE_CHECKPOINTS_FROM, projectionGroup, projectionLockKey } from '../../src/infrastructure/postgres/read-models-schema.js';
import {
  createPostgresReadModels,
  readModelMigrations,
  rebuildProjections,
  type PostgresReadModels,
  type PostgresReadModelsOptions,
} from '../../src/infrastructure/postgres/read-models.js';
import { installTestMetrics } from '../support/metrics.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { widgetProjections } from '../contract/read-models.contract.js';

const CHANGE_LOG = `
CREATE TABLE change_log (seq BIGSERIAL PRIMARY KEY, op TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL, doc JSONB);
CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN INSERT INTO change_log (op, collection, id) VALUES (TG_OP, OLD.collection, OLD.id);
  ELSE INSERT INTO change_log (op, collection, id, doc) VALUES (TG_OP, NEW.collection, NEW.id, NEW.doc);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER log_change AFTER INSERT OR UPDATE OR DELETE ON read_model_documents FOR EACH ROW EXECUTE FUNCTION log_change();
CREATE TABLE batch_log (seq BIGSERIAL PRIMARY KEY);
CREATE FUNCTION log_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO batch_log DEFAULT VALUES;
  RETURN NULL;
END $$;
CREATE TRIGGER log_batch AFTER UPDATE ON projection_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION log_batch();`;

/** Counters opened by `Opened`; every `Ticked` merges its own position in, so a replayed merge is a second UPDATE row with the same `last`. */
const counting = (name: string, collection: string): Projection => ({
  name,
  collections: [collection],
  apply: (event) => {
    if (event.type === 'Opened') return [{ op: 'put', collection, id: event.stream, doc: { stream: event.stream } }];
    if (event.type === 'Ticked') return [{ op: 'merge', collection, id: event.stream, patch: { last: event.position, revision: event.revision } }];
    return [];
  },
});
const ticks = counting('ticks', 'counters');
const tallies = counting('tallies', 'tallies');
const opened: NewEvent = { type: 'Opened', data: {} };
const ticked: NewEvent = { type: 'Ticked', data: {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL projections across processes', () => {
  let schema: TestSchema;
  let admin: pg.Pool;
  let store: EventStore;
  const cleanups: Array<() => Promise<void>> = [];

  /** One "process": its own pool and read models over the shared schema. */
  const open = (options: Partial<PostgresReadModelsOptions> = {}): PostgresReadModels => {
    const pool = new pg.Pool({ connectionString: schema.url, max: 4 });
    const models = createPostgresReadModels({ pool, store, projections: [ticks], runProjections: true, pollMs: 50, lockRetryMs: 50, waitTimeoutMs: 5000, ...options });
    cleanups.push(async () => {
      await models.stop();
      await pool.end();
    });
    return models;
  };
  const appliedTicks = async (collection = 'counters'): Promise<number[]> =>
    (await admin.query<{ last: number }>(`SELECT (doc->>'last')::int AS last FROM change_log WHERE op = 'UPDATE' AND collection = $1 ORDER BY seq`, [collection])).rows.map((row) => row.last);
  const batches = async (): Promise<number> => Number((await admin.query<{ count: string }>('SELECT count(*) FROM batch_log')).rows[0]!.count);
  const tickPositions = async (): Promise<number[]> =>
    (await store.readAll(0, 10_000)).filter((event) => event.type === 'Ticked').map((event) => event.position);
  const checkpoint = async (name: string): Promise<number | undefined> => {
    const { rows } = await admin.query<{ position: string }>('SELECT position FROM projection_checkpoints WHERE name = $1', [name]);
    return rows[0] && Number(rows[0].position);
  };
  const snapshot = async () => (await admin.query('SELECT collection, id, doc FROM read_model_documents ORDER BY collection, id')).rows;

  beforeEach(async () => {
    schema = await createTestSchema();
    admin = new pg.Pool({ connectionString: schema.url, max: 3 });
    await migrate(admin, readModelMigrations);
    await admin.query(CHANGE_LOG);
    store = createInMemoryEventStore();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await store.close();
    await admin.end();
    await schema.drop();
  });

  it('tells onApplied after its page committed, and a listener that throws stops nothing', async () => {
    const order: string[] = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (text === 'COMMIT' && result instanceof Promise) result.then(() => order.push('committed'), () => undefined);
      return result;
    } as typeof original;
    try {
      let calls = 0;
      const errors: Error[] = [];
      const models = open({
        onError: (error) => void errors.push(error),
        onApplied: () => {
          order.push('told');
          calls += 1;
          if (calls === 1) throw new Error('listener exploded');
        },
      });
      await models.start();
      const first = await store.append('counter-1', [opened, ticked], 'no_stream');
      await models.waitFor(first.position);
      const second = await store.append('counter-1', [ticked], 1);
      await models.waitFor(second.position); // still projecting after the listener threw
      for (let waited = 0; calls < 2 && waited < 2000; waited += 10) await sleep(10);
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(errors).toEqual([]); // no projection failure: the lead was not given up over it
      expect(models.leading()).toEqual(['ticks']);
      order.forEach((entry, i) => entry === 'told' && expect(order[i - 1]).toBe('committed'));
      expect(await appliedTicks()).toEqual(await tickPositions());
    } finally {
      pg.Client.prototype.query = original;
    }
  });

  it("sends its signal's NOTIFY from a page whose changes pass the test, and none from other pages", async () => {
    const listener = new pg.Client({ connectionString: schema.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => void heard.push(message.channel));
    await listener.query('LISTEN projection_test_signal');
    try {
      // Opened puts a counter, Ticked only merges: a page with a put is what the test looks for.
      const models = open({ signal: { channel: 'projection_test_signal', when: (changes) => changes.some((change) => change.op === 'put') } });
      await models.start();
      const first = await store.append('counter-1', [opened, ticked], 'no_stream');
      await models.waitFor(first.position);
      for (let waited = 0; heard.length === 0 && waited < 2000; waited += 10) await sleep(10);
      expect(heard).toEqual(['projection_test_signal']);
      const second = await store.append('counter-1', [ticked], 1);
      await models.waitFor(second.position);
      await sleep(100);
      expect(heard).toEqual(['projection_test_signal']);
    } finally {
      await listener.end();
    }
  });

  it('runs each projection in one process only: every merge is applied exactly once', async () => {
    const [a, b] = [open(), open()];
    await Promise.all([a.start(), b.start()]);
    // Each tries the lock with a 50 ms statement limit here: on a busy machine both tries can
    // time out, and the next comes 50 ms later. Exactly one leads once one does.
    for (let waited = 0; [...a.leading(), ...b.leading()].length === 0 && waited < 5000; waited += 20) await sleep(20);
    expect([...a.leading(), ...b.leading()]).toEqual(['ticks']);
    await Promise.all(['s1', 's2', 's3'].map((stream) => store.append(stream, [opened], 'no_stream')));
    for (let i = 0; i < 60; i++) await store.append(`s${(i % 3) + 1}`, [ticked, ticked], 'any');
    const head = await store.headPosition();
    await Promise.all([a.waitFor(head), b.waitFor(head)]);
    expect(await appliedTicks()).toEqual(await tickPositions());
    expect(await a.lag()).toEqual({ ticks: 0 });
  });

  it('hands the lead over when the leader dies, continuing from its checkpoint without loss or duplicates', async () => {
    const a = open();
    await a.start();
    const b = open();
    await b.start();
    expect(a.leading()).toEqual(['ticks']);
    expect(b.leading()).toEqual([]);
    await store.append('s1', [opened], 'no_stream');
    const write = async (ticks: number) => {
      for (let i = 0; i < ticks; i++) {
        await store.append('s1', [ticked], 'any');
        await sleep(2);
      }
    };
    const writing = write(40);
    await sleep(40);
    // A crash while events are being written: the leader's connection is cut (mid-batch, most
    // likely), then its process is gone.
    const killed = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
       AND ((classid::bigint << 32) | objid::bigint) = ${projectionLockKey}`,
      [projectionGroup(['ticks'])],
    );
    expect(killed.rowCount).toBe(1);
    await a.stop();
    // Whatever the dead leader got through, the events written from here on are only b's to
    // apply. (Counting on the leader to be short of a position at the kill made the test
    // depend on timing.)
    await writing;
    await write(40);
    await b.waitFor(await store.headPosition());
    expect(b.leading()).toEqual(['ticks']);
    expect(await appliedTicks()).toEqual(await tickPositions());
  });

  it('recovers by itself when its lock connection is cut, without duplicates', async () => {
    const errors: Error[] = [];
    const models = open({ onError: (error) => errors.push(error) });
    await models.start();
    await store.append('s1', [opened, ticked], 'no_stream');
    await models.waitFor(2);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = ${projectionLockKey}`, [projectionGroup(['ticks'])]);
    await store.append('s1', [ticked, ticked], 1);
    await models.waitFor(4);
    expect(errors.length).toBeGreaterThan(0);
    expect(models.leading()).toEqual(['ticks']);
    expect(await appliedTicks()).toEqual([2, 3, 4]);
  });

  it("ends its lock's session when the pool's setup of it fails, and tries again later", async () => {
    let refused = 0;
    const sessions: number[] = [];
    const pool = new pg.Pool({
      connectionString: schema.url,
      max: 4,
      onConnect: async (client: pg.ClientBase) => {
        const { rows } = await client.query<{ name: string; pid: number }>("SELECT current_setting('application_name') AS name, pg_backend_pid() AS pid");
        if (rows[0]!.name !== 'otp-verify projections') return;
        sessions.push(rows[0]!.pid);
        if (refused++ < 3) throw new Error('setup refused');
      },
    } as pg.PoolConfig);
    const errors: Error[] = [];
    const models = createPostgresReadModels({ pool, store, projections: [ticks], runProjections: true, pollMs: 50, lockRetryMs: 50, waitTimeoutMs: 5000, onError: (error) => errors.push(error) });
    cleanups.push(async () => {
      await models.stop();
      await pool.end();
    });
    await store.append('s1', [opened], 'no_stream');
    await models.start().catch(() => undefined);
    await models.waitFor(1);
    expect(errors.map((error) => error.message)).toEqual(['setup refused', 'setup refused', 'setup refused']);
    // The refused sessions were ended: only the leader's is left.
    expect(sessions).toHaveLength(4);
    await sleep(100);
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])', [sessions]);
    expect(rows.map((row) => row.pid)).toEqual([sessions[3]]);
  });

  it("sets up its lock's own session as the pool sets up its sessions (the server's keepalives: a vanished host's lock is freed in seconds)", async () => {
    const setUp: string[] = [];
    const pool = new pg.Pool({
      connectionString: schema.url,
      max: 4,
      onConnect: async (client: pg.ClientBase) => {
        await client.query('SET tcp_keepalives_idle = 10');
        setUp.push((await client.query<{ name: string }>("SELECT current_setting('application_name') AS name")).rows[0]!.name);
      },
    } as pg.PoolConfig);
    const models = createPostgresReadModels({ pool, store, projections: [ticks], runProjections: true, pollMs: 50, lockRetryMs: 50, waitTimeoutMs: 5000 });
    cleanups.push(async () => {
      await models.stop();
      await pool.end();
    });
    await models.start();
    await store.append('s1', [opened], 'no_stream');
    await models.waitFor(1);
    expect(setUp).toContain('otp-verify projections');
    // The lock's holder, as the server sees it.
    const { rows } = await admin.query<{ name: string }>(
      `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = ${projectionLockKey}`,
      [projectionGroup(['ticks'])],
    );
    expect(rows.map((row) => row.name)).toEqual(['otp-verify projections']);
  });

  it('reports each projection\'s lag as an observable gauge', async () => {
    const telemetry = installTestMetrics();
    try {
      const lagPoints = async () =>
        (await telemetry.points()).filter((point) => point.name === 'otp_verify.projection.lag').map(({ attributes, value }) => ({ attributes, value }));
      const models = open();
      await store.append('s1', [opened, ticked, ticked], 'no_stream');
      expect(await lagPoints()).toEqual([{ attributes: { projection: 'ticks' }, value: 3 }]);
      await models.start();
      expect(await lagPoints()).toEqual([{ attributes: { projection: 'ticks' }, value: 0 }]);
      await models.stop();
      await store.append('s1', [ticked], 2);
      // No longer observed after stop: the SDK repeats the last value instead of the new lag of 1.
      expect(await lagPoints()).toEqual([{ attributes: { projection: 'ticks' }, value: 0 }]);
    } finally {
      telemetry.uninstall();
    }
  });

  it('rolls a failed batch back whole and applies it exactly once after a restart', async () => {
    let bombs = 1;
    const fragile: Projection = {
      ...ticks,
      apply: (event) => {
        if (event.type === 'Ticked' && event.revision === 5 && bombs-- > 0) throw new Error('crash in the middle of a batch');
        return ticks.apply(event);
      },
    };
    await store.append('s1', [opened, ...Array.from({ length: 9 }, () => ticked)], 'no_stream');
    const errors: Error[] = [];
    const crashed = open({ projections: [fragile], lockRetryMs: 60_000, onError: (error) => errors.push(error) });
    await expect(crashed.start()).rejects.toThrow('Projection ticks failed on event 6 (Ticked)');
    expect(errors).toHaveLength(1);
    expect(await checkpoint('ticks')).toBe(0);
    expect(await snapshot()).toEqual([]);
    expect((await admin.query('SELECT 1 FROM change_log')).rowCount).toBe(0);
    await crashed.stop();

    const restarted = open({ projections: [fragile] });
    await restarted.start();
    expect(await checkpoint('ticks')).toBe(10);
    expect(await appliedTicks()).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses a change to a collection the projection does not declare (a rebuild would not clear it)', async () => {
    const sloppy: Projection = { ...ticks, collections: [] };
    await store.append('s1', [opened], 'no_stream');
    const models = open({ projections: [sloppy], lockRetryMs: 60_000 });
    await expect(models.start()).rejects.toThrow('Projection ticks wrote to collection counters, which it does not declare');
    expect(await checkpoint('ticks')).toBe(0);
  });

  it("gives one projection's own position apart from the lowest of all (another being rebuilt)", async () => {
    const projections = [ticks, ...widgetProjections];
    const runner = open({ projections });
    await runner.start();
    await store.append('s1', [opened, ticked], 'no_stream');
    const head = await store.headPosition();
    await runner.waitFor(head);
    await runner.stop();
    // A reader only (no runner): widget-stats reset as a rebuild leaves it until replayed.
    const reader = open({ projections, runProjections: false });
    await reader.start();
    await admin.query("UPDATE projection_checkpoints SET position = 0 WHERE name = 'widget-stats'");
    expect(await reader.position()).toBe(0);
    expect(await reader.position('ticks')).toBe(head);
    expect(await reader.position('widget-stats')).toBe(0);
  });

  it('rebuilds from position 0 while the runner is live, yielding identical documents', async () => {
    const projections = [ticks, ...widgetProjections];
    const models = open({ projections });
    await models.start();
    await store.append('s1', [opened, ticked, ticked], 'no_stream');
    await store.append('widget-1', [{ type: 'WidgetCreated', data: { name: 'gear', color: 'red' } }], 'no_stream');
    await store.append('widget-2', [{ type: 'WidgetCreated', data: { name: 'cog' } }, { type: 'WidgetChanged', data: { color: 'blue', size: 2 } }], 'no_stream');
    await store.append('widget-1', [{ type: 'WidgetDeleted', data: {} }], 0);
    const head = await store.headPosition();
    await models.waitFor(head);
    const before = await snapshot();
    expect(before).toHaveLength(5);

    await expect(rebuildProjections(admin, projections, ['nope'])).rejects.toThrow('Unknown projection "nope"');
    expect(await rebuildProjections(admin, projections, ['ticks'])).toEqual(['ticks']);
    await models.waitFor(head);
    expect(await rebuildProjections(admin, projections)).toEqual(['ticks', 'widgets', 'widget-stats']);
    await models.waitFor(head);
    expect(await snapshot()).toEqual(before);
    // Really replayed: the ticks' merges were applied three times in all, each time once per event.
    expect(await appliedTicks()).toEqual([2, 3, 2, 3, 2, 3]);
    const deleted = await admin.query(`SELECT collection, id FROM change_log WHERE op = 'DELETE' ORDER BY seq`);
    expect(deleted.rows.filter((row) => row.collection === 'counters')).toHaveLength(2);
  });

  it('runs all the projections of a process under one lead, and moves every checkpoint for an event none of them uses', async () => {
    const [a, b] = [open({ projections: [ticks, tallies] }), open({ projections: [tallies, ticks] })];
    await Promise.all([a.start(), b.start()]);
    // The same projections in another order are the same group: one leader for both.
    expect([a, b].filter((models) => models.leading().length > 0)).toHaveLength(1);
    expect([...a.leading(), ...b.leading()].sort()).toEqual(['tallies', 'ticks']);
    const api = open({ projections: [ticks, tallies], runProjections: false, waitTimeoutMs: 1000 });
    await api.waitFor((await store.append('s1', [opened, ticked], 'no_stream')).position);
    // Alone in its page, so only this event can move the checkpoints.
    const { position } = await store.append('other', [{ type: 'Unrelated', data: {} }], 'no_stream');
    await api.waitFor(position);
    expect(await checkpoint('ticks')).toBe(position);
    expect(await checkpoint('tallies')).toBe(position);
    expect(await api.get('counters', 's1')).toEqual({ stream: 's1', last: 2, revision: 1 });
    expect(await api.get('tallies', 's1')).toEqual({ stream: 's1', last: 2, revision: 1 });
  });

  it('plans each page once: the events of a page with changes reach each projection once', async () => {
    let calls = 0;
    const planned: Projection = {
      ...ticks,
      apply: (event) => {
        calls += 1;
        return ticks.apply(event);
      },
    };
    const models = open({ projections: [planned] });
    await models.start();
    await models.waitFor((await store.append('s1', [opened], 'no_stream')).position);
    for (let i = 0; i < 4; i++) await models.waitFor((await store.append('s1', [ticked], i)).position);
    expect(calls).toBe(5);
    expect(await appliedTicks()).toEqual(await tickPositions());
  });

  it('moves the checkpoints over pages that change nothing with one UPDATE each, outside any transaction', async () => {
    const models = open({ projections: [ticks, tallies] });
    await models.start();
    await models.waitFor((await store.append('s1', [opened], 'no_stream')).position);
    // A spy that calls through: which statements the real clients send.
    const query = jest.spyOn(pg.Client.prototype, 'query');
    const texts = (): string[] => query.mock.calls.map(([config]) => (typeof config === 'string' ? config : (config as pg.QueryConfig).text));
    try {
      for (let i = 0; i < 5; i++) await models.waitFor((await store.append(`other-${i}`, [{ type: 'Unrelated', data: {} }], 'no_stream')).position);
      expect(texts().filter((text) => text === MOVE_CHECKPOINTS_FROM).length).toBeGreaterThanOrEqual(1);
      expect(texts()).not.toContain('BEGIN');
      const head = await store.headPosition();
      expect([await checkpoint('ticks'), await checkpoint('tallies')]).toEqual([head, head]);
      // A page with changes still goes the locked way, in a transaction.
      await models.waitFor((await store.append('s1', [ticked], 0)).position);
      expect(texts()).toContain('BEGIN');
    } finally {
      query.mockRestore();
    }
    expect(await appliedTicks('counters')).toEqual(await tickPositions());
    expect(await appliedTicks('tallies')).toEqual(await tickPositions());
  });

  it('moves checkpoints over a page that changes nothing locking them in name order, as rebuilds do, whatever their order in the table', async () => {
    await admin.query("INSERT INTO projection_checkpoints (name, position) VALUES ('a', 0), ('b', 0)");
    // Row versions now lie b, a in the table: a plain UPDATE's scan would lock b first.
    await admin.query("UPDATE projection_checkpoints SET position = 5 WHERE name = 'b'");
    await admin.query("UPDATE projection_checkpoints SET position = 5 WHERE name = 'a'");
    const rebuild = await admin.connect();
    const mover = await admin.connect();
    try {
      await rebuild.query('BEGIN');
      await rebuild.query("SELECT name FROM projection_checkpoints WHERE name = 'a' FOR UPDATE");
      // A scan of the table, as the planner picks for a small, analysed one (no index order to lean on).
      await mover.query('SET enable_indexscan = off; SET enable_bitmapscan = off');
      const { rows } = await mover.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const moving = mover.query(MOVE_CHECKPOINTS_FROM, [['a', 'b'], 9, 5]);
      for (let waited = 0; ; waited += 10) {
        const { rowCount } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [rows[0]!.pid]);
        if (rowCount === 1) break;
        if (waited > 5000) throw new Error('the move never waited for the lock on a');
        await sleep(10);
      }
      // Waiting for a, the move holds no lock on b yet: a rebuild locking in name order goes on.
      await expect(rebuild.query("SELECT name FROM projection_checkpoints WHERE name = 'b' FOR UPDATE NOWAIT")).resolves.toMatchObject({ rowCount: 1 });
      await rebuild.query("UPDATE projection_checkpoints SET position = 0 WHERE name = 'a'");
      await rebuild.query('COMMIT');
      // a was reset meanwhile and stays put; b moves.
      expect((await moving).rowCount).toBe(1);
      expect([await checkpoint('a'), await checkpoint('b')]).toEqual([0, 9]);
    } finally {
      await rebuild.query('ROLLBACK').catch(() => undefined);
      rebuild.release();
      await mover.query('RESET enable_indexscan; RESET enable_bitmapscan').catch(() => undefined);
      mover.release();
    }
  });

  it('finds, on a page that changes nothing, a rebuild it had not seen, and replays the rebuilt projection', async () => {
    const projections = [ticks, tallies];
    // No idle poll in time: only the page after the rebuild can find it.
    const models = open({ projections, pollMs: 60_000 });
    await models.start();
    await store.append('s1', [opened, ticked, ticked], 'no_stream');
    await models.waitFor(await store.headPosition());
    expect(await rebuildProjections(admin, projections, ['ticks'])).toEqual(['ticks']);
    const { position } = await store.append('other', [{ type: 'Unrelated', data: {} }], 'no_stream');
    await models.waitFor(position);
    const all = await tickPositions();
    expect(await appliedTicks('counters')).toEqual([...all, ...all]);
    expect(await appliedTicks('tallies')).toEqual(all);
    expect(await models.get('counters', 's1')).toEqual({ stream: 's1', last: 3, revision: 2 });
    expect([await checkpoint('ticks'), await checkpoint('tallies')]).toEqual([position, position]);
  });

  it('replays a rebuilt projection while the others of its group, current, apply each event once', async () => {
    const projections = [ticks, tallies];
    const models = open({ projections });
    await models.start();
    await store.append('s1', [opened], 'no_stream');
    await store.append('s2', [opened], 'no_stream');
    // Ticks are written until 30 more have been after the rebuild, however long the runner takes to apply the first.
    let rebuilt = false;
    let givenUp = false;
    const writing = (async () => {
      for (let i = 0, after = 0; after < 30 && !givenUp; i++) {
        await store.append(`s${(i % 2) + 1}`, [ticked], 'any');
        if (rebuilt) after += 1;
        await sleep(1);
      }
    })();
    try {
      // Rebuilt once the runner has applied a tick: there is something to replay.
      const deadline = Date.now() + 10_000;
      while ((await appliedTicks('counters')).length === 0) {
        if (Date.now() > deadline) throw new Error('no tick applied within 10 s');
        await sleep(5);
      }
      expect(await rebuildProjections(admin, projections, ['ticks'])).toEqual(['ticks']);
      rebuilt = true;
    } finally {
      givenUp = !rebuilt;
      await writing;
    }
    await models.waitFor(await store.headPosition());
    const all = await tickPositions();
    // The rebuilt one: what it had before the rebuild, then everything once more.
    const replayed = await appliedTicks('counters');
    expect(replayed.length).toBeGreaterThan(all.length);
    expect(replayed.slice(replayed.length - all.length)).toEqual(all);
    expect(all.slice(0, replayed.length - all.length)).toEqual(replayed.slice(0, replayed.length - all.length));
    // The other one: every event exactly once, across the rebuild.
    expect(await appliedTicks('tallies')).toEqual(all);
    expect(await models.lag()).toEqual({ ticks: 0, tallies: 0 });
  });

  it('projects many appends in quick succession in fewer transactions than appends, each event once', async () => {
    // At least 2 s between transactions once caught up: the appends below would have to take 8 s to make 5 batches.
    const models = open({ minIntervalMs: 2000, waitTimeoutMs: 10_000 });
    await models.start();
    await models.waitFor((await store.append('s1', [opened], 'no_stream')).position);
    const before = await batches();
    const appends = 20;
    for (let i = 0; i < appends; i++) {
      await store.append('s1', [ticked], 'any');
      await sleep(5);
    }
    await models.waitFor(await store.headPosition());
    // Each append rings the runner; one transaction per ring would make about `appends` batches.
    expect((await batches()) - before).toBeLessThan(appends / 4);
    expect(await appliedTicks()).toEqual(await tickPositions());
  });

  it('lets an API process wait for the runner of another process (read-your-writes)', async () => {
    const worker = open();
    await worker.start();
    // Its waits may include another process's connect, lock and catch-up: long.
    const api = open({ runProjections: false, waitTimeoutMs: 10_000 });
    await api.start();
    expect(api.leading()).toEqual([]);
    const { position } = await store.append('s1', [opened, ticked], 'no_stream');
    await api.waitFor(position);
    expect(await api.get('counters', 's1')).toEqual({ stream: 's1', last: 2, revision: 1 });
    expect(await api.position()).toBe(position);
    // Another API process, whose waits time out after 300 ms, for a position nobody writes.
    const hasty = open({ runProjections: false, waitTimeoutMs: 300 });
    await hasty.start();
    await expect(hasty.waitFor(position + 1)).rejects.toThrow(`did not reach position ${position + 1} within 300 ms`);
    await worker.stop();
    await store.append('s1', [ticked, ticked], 1);
    expect(await api.lag()).toEqual({ ticks: 2 });
    const waiting = api.waitFor(position + 2);
    const replacement = open();
    await replacement.start();
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('PostgreSQL projections over the PostgreSQL event store', () => {
  it("wakes on the log's commit notifications as its doorbell, from any process, with no subscription reading events only to ring", async () => {
    const schema = await createTestSchema();
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: schema.url, max: 4 }));
    const [writerPool, runnerPool] = pools as [pg.Pool, pg.Pool];
    await migrate(writerPool, [...eventStoreMigrations, ...readModelMigrations]);
    const [other, own] = pools.map((pool) => createPostgresEventStore({ pool, listenConnectionString: schema.url })) as [PostgresEventStore, PostgresEventStore];
    const noSubscriptions: EventStore = {
      ...own,
      subscribe: () => {
        throw new Error('the runner subscribed to the store');
      },
    };
    const models = createPostgresReadModels({
      pool: runnerPool,
      store: noSubscriptions,
      projections: widgetProjections,
      runProjections: true,
      pollMs: 60_000, // only the doorbell can wake it in time
      lockRetryMs: 50,
      doorbell: (ring) => own.watchStreams({ moved: ring, unknown: ring }),
    });
    try {
      await models.start();
      await other.append('widget-1', [{ type: 'WidgetCreated', data: { name: 'gear', color: 'red' } }], 'no_stream');
      const fromOther = await other.append('widget-1', [{ type: 'WidgetChanged', data: { color: 'blue' } }], 0);
      await models.waitFor(fromOther.position);
      expect(await models.get('widgets', '1')).toEqual({ id: '1', name: 'gear', color: 'blue' });
      const fromOwn = await own.append('widget-2', [{ type: 'WidgetCreated', data: { name: 'cog' } }], 'no_stream');
      await models.waitFor(fromOwn.position);
      expect(await models.get('widgets', '2')).toEqual({ id: '2', name: 'cog' });
      expect([...models.leading()].sort()).toEqual(['widget-stats', 'widgets']);
    } finally {
      await models.stop();
      await Promise.all([other.close(), own.close()]);
      for (const pool of pools) await pool.end();
      await schema.drop();
    }
  });

  it('projects what another process appended, once, with the lead in one process', async () => {
    const schema = await createTestSchema();
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: schema.url, max: 4 }));
    const [writerPool, poolA, poolB] = pools as [pg.Pool, pg.Pool, pg.Pool];
    await migrate(writerPool, [...eventStoreMigrations, ...readModelMigrations]);
    const stores = pools.map((pool) => createPostgresEventStore({ pool, listenConnectionString: schema.url }));
    const models = [poolA, poolB].map((pool, i) =>
      createPostgresReadModels({ pool, store: stores[i + 1]!, projections: widgetProjections, runProjections: true, pollMs: 10_000, lockRetryMs: 50 }),
    );
    try {
      await Promise.all(models.map((m) => m.start()));
      const writer = stores[0]!;
      const created = await writer.append('widget-1', [{ type: 'WidgetCreated', data: { name: 'gear', color: 'red' } }], 'no_stream');
      // Once that is applied, the leader's store is listening (its first LISTEN also wakes the
      // runner); a moment more, and the subscription that rang for it is idle.
      await models[1]!.waitFor(created.position);
      await sleep(100);
      // pollMs is long (and the listener's fallback poll is 5 s): only the store's notification can wake the runner in time.
      const { position } = await writer.append('widget-1', [{ type: 'WidgetChanged', data: { color: 'blue' } }], 0);
      const started = Date.now();
      await models[1]!.waitFor(position);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await models[0]!.get('widgets', '1')).toEqual({ id: '1', name: 'gear', color: 'blue' });
      expect(await models[1]!.findBy('widgets', 'color', 'blue')).toEqual([{ id: '1', name: 'gear', color: 'blue' }]);
      expect(await models[0]!.get('stats', 'widget-1')).toEqual({ events: 2, last: 'WidgetChanged' });
      expect([...models[0]!.leading(), ...models[1]!.leading()].sort()).toEqual(['widget-stats', 'widgets']);
    } finally {
      for (const m of models) await m.stop();
      for (const s of stores) await s.close();
      for (const p of pools) await p.end();
      await schema.drop();
    }
  });
});
