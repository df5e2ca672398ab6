/**
 * Snapshots of long streams, on the backend under test (SQLite file or PostgreSQL table): an
 * enrollment verified past the snapshot interval gets one, a fresh process reads it plus the
 * events after it and decides exactly as on the whole stream (a used step stays used, failures
 * keep counting), and a snapshot of another state format is ignored. Every stream the flows
 * wrote folds to the same state through a JSON round trip at any revision, which is what makes
 * a stored snapshot of any aggregate equal to the state it was taken from.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AccountAggregate, ChallengeAggregate, ClientAppAggregate, EnrollmentAggregate, SNAPSHOT_EVERY } from '../../src/application/aggregates.js';
import type { Aggregate } from '../../src/application/handle-command.js';
import type { DomainEvent } from '../../src/domain/shared/decider.js';
import { enrollTotp, newApp, newOperator, sendEmailCode, totpAt, wrongCode } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { createTestClock, newKeys, startTestServer, testBackend, type TestServer } from '../support/test-server.js';

const PERIOD_MS = 30_000;

type Row = { stream: string; revision: number; event_id: string; version: string; state: string };

/** The snapshots stored for the server's data directory, read behind the service's back. */
const storedSnapshots = async (dataDir: string): Promise<{ rows: Row[]; run: (sql: string, params: unknown[]) => Promise<void> }> => {
  if (testBackend() === 'postgres') {
    const { databaseUrl } = JSON.parse(readFileSync(join(dataDir, 'test-backend.json'), 'utf8')) as { databaseUrl: string };
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const rows = (await client.query<Row>('SELECT stream, revision, event_id, version, state::text AS state FROM snapshots ORDER BY stream')).rows;
      return {
        rows,
        run: async (sql, params) => {
          const c = new pg.Client({ connectionString: databaseUrl });
          await c.connect();
          const numbered = sql.split('?').map((part, i) => (i === 0 ? part : `$${i}${part}`)).join('');
          await c.query(numbered, params).finally(() => c.end());
        },
      };
    } finally {
      await client.end();
    }
  }
  const path = join(dataDir, 'snapshots.sqlite');
  const db = new Database(path, { readonly: true });
  try {
    return {
      rows: db.prepare<[], Row>('SELECT stream, revision, event_id, version, state FROM snapshots ORDER BY stream').all(),
      run: async (sql, params) => {
        const rw = new Database(path);
        try {
          rw.prepare(sql).run(...params);
        } finally {
          rw.close();
        }
      },
    };
  } finally {
    db.close();
  }
};

/** The aggregate a stream belongs to; undefined for the service's own system streams. */
const aggregateOf = (stream: string): Aggregate<unknown, unknown, DomainEvent> | undefined => {
  const byPrefix: Array<[string, unknown]> = [
    ['enrollment-', EnrollmentAggregate],
    ['account-', AccountAggregate],
    ['app-', ClientAppAggregate],
    ['challenge-', ChallengeAggregate],
  ];
  return byPrefix.find(([prefix]) => stream.startsWith(prefix))?.[1] as Aggregate<unknown, unknown, DomainEvent> | undefined;
};

describe('snapshots of long streams', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-verify-snapshots-'));
  const keys = newKeys();
  const clock = createTestClock();
  let server: TestServer;
  let client: Client;
  let apiKey: string;
  let secret: string;
  let lastCode: string;
  const verify = (otp: string, username = 'long-lived') => client.post('/api/code/verify', { apiKey, body: { username, otp } });

  beforeAll(async () => {
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);
    const operator = await newOperator(client);
    apiKey = (await newApp(client, operator.token)).apiKey;
    ({ secret } = await enrollTotp(client, apiKey, 'long-lived', clock));
    // Past the interval: the enrollment stream gets a snapshot on the way.
    for (let i = 0; i < SNAPSHOT_EVERY + 5; i++) {
      clock.advance(PERIOD_MS);
      lastCode = totpAt(secret, clock());
      const answer = await verify(lastCode);
      if (answer.status !== 200) throw new Error(`verification ${i} failed: ${answer.status} ${answer.text}`);
    }
    expect((await verify(wrongCode(lastCode))).body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: 4 });
    await sendEmailCode(client, server.outboxFile, apiKey, 'someone-else');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores one for the enrollment, at a multiple of the interval, in the current format', async () => {
    const { rows } = await storedSnapshots(dataDir);
    const enrollment = rows.filter((r) => r.stream.startsWith('enrollment-'));
    expect(enrollment).toHaveLength(1);
    expect((enrollment[0]!.revision + 1) % SNAPSHOT_EVERY).toBe(0);
    expect(enrollment[0]!.version).toBe(EnrollmentAggregate.snapshot.version);
    // Short streams have none: the app's, the operator's account, the challenge.
    expect(rows.filter((r) => !r.stream.startsWith('enrollment-'))).toEqual([]);
    // The seed is in it only sealed, as in the log.
    expect(enrollment[0]!.state).toContain('"ciphertext"');
    for (const form of [secret, secret.toLowerCase(), Buffer.from(secret).toString('base64')]) expect(enrollment[0]!.state).not.toContain(form);
  });

  it('gives the state of the whole stream for every stream written, and JSON keeps every state intact', async () => {
    const { store, load } = server.service.deps;
    const streams = new Set<string>();
    for (let after = 0; ; ) {
      const page = await store.readAll(after, 500);
      if (page.length === 0) break;
      for (const event of page) streams.add(event.stream);
      after = page.at(-1)!.position;
    }
    const kinds = new Set([...streams].map((stream) => aggregateOf(stream)?.name));
    expect(kinds).toEqual(new Set(['Enrollment', 'Account', 'ClientApp', 'Challenge', undefined]));
    for (const stream of streams) {
      const aggregate = aggregateOf(stream);
      if (aggregate === undefined) continue;
      const events = (await store.readStream(stream)).map((e) => ({ type: e.type, data: e.data }));
      const whole = events.reduce(aggregate.decider.evolve, aggregate.decider.initialState);
      expect(await load(aggregate, stream)).toEqual(whole);
      for (let cut = 0; cut <= events.length; cut++) {
        const head = events.slice(0, cut).reduce(aggregate.decider.evolve, aggregate.decider.initialState);
        const resumed = events.slice(cut).reduce(aggregate.decider.evolve, JSON.parse(JSON.stringify(head)) as unknown);
        expect(resumed).toEqual(whole);
      }
    }
  });

  it('after a restart, decides on snapshot and tail exactly as on the whole stream', async () => {
    await server.stop();
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);
    // The last step is still used (a replay is refused, not counted), and the failure before the restart still counts.
    expect((await verify(lastCode)).body).toMatchObject({ code: 'INVALID_CODE' });
    expect((await verify(wrongCode(lastCode))).body).toMatchObject({ code: 'INVALID_CODE', attempts_remaining: 3 });
    clock.advance(PERIOD_MS);
    expect((await verify(totpAt(secret, clock()))).status).toBe(200);
    expect(server.logs.filter((line) => line.includes('snapshot ignored'))).toEqual([]); // its seal held
  }, 30_000);

  it('is ignored once edited in the database: the service decides only on states its log produced', async () => {
    const { rows, run } = await storedSnapshots(dataDir);
    const stream = rows.find((r) => r.stream.startsWith('enrollment-'))!.stream;
    const tampered = { ...(JSON.parse(rows.find((r) => r.stream === stream)!.state) as object), last_step: Number.MAX_SAFE_INTEGER, failures: 0 };
    await run('UPDATE snapshots SET state = ? WHERE stream = ?', [JSON.stringify(tampered), stream]);
    await server.stop();
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);
    clock.advance(PERIOD_MS);
    expect((await verify(totpAt(secret, clock()))).status).toBe(200); // a last_step of 2^53 would refuse every code
    expect(server.logs.some((line) => line.includes('snapshot ignored'))).toBe(true);
    for (let i = 0; i < SNAPSHOT_EVERY; i++) {
      clock.advance(PERIOD_MS);
      expect((await verify(totpAt(secret, clock()))).status).toBe(200);
    }
    // Replaced as the stream grew, by one the log produced.
    const before = rows.find((r) => r.stream === stream)!;
    const again = (await storedSnapshots(dataDir)).rows.find((r) => r.stream === stream)!;
    expect(again.revision).toBe(before.revision + SNAPSHOT_EVERY);
    expect((JSON.parse(again.state) as { last_step: number }).last_step).toBeLessThanOrEqual(Math.floor(clock().getTime() / PERIOD_MS));
  }, 60_000);

  it('ignores a snapshot in another format, even one sealed by the service itself', async () => {
    const { rows, run } = await storedSnapshots(dataDir);
    const row = rows.find((r) => r.stream.startsWith('enrollment-'))!;
    const stream = row.stream;
    // As an older release would have left it: its own version, a state this one cannot read, a valid seal.
    const state = { kind: 'NONE' };
    const seal = server.service.deps.keyedHash('snapshot', JSON.stringify([stream, row.revision, row.event_id, 'enrollment/0', state]));
    await run('UPDATE snapshots SET version = ?, state = ?, seal = ? WHERE stream = ?', ['enrollment/0', JSON.stringify(state), seal, stream]);
    await server.stop();
    server = await startTestServer({ dataDir, keys, clock });
    client = createClient(server.url);
    const usedCode = totpAt(secret, clock());
    expect((await verify(usedCode)).body).toMatchObject({ code: 'INVALID_CODE' });
    clock.advance(PERIOD_MS);
    expect((await verify(totpAt(secret, clock()))).status).toBe(200);
    const { store, load } = server.service.deps;
    const whole = (await store.readStream(stream)).map((e) => ({ type: e.type, data: e.data }));
    expect(await load(EnrollmentAggregate, stream)).toEqual(whole.reduce(EnrollmentAggregate.decider.evolve as never, EnrollmentAggregate.decider.initialState));
  }, 30_000);
});
