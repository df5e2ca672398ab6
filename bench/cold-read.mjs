// `node bench/cold-read.mjs` (after `npm run build`): what a cold read of a long enrollment
// stream costs on PostgreSQL (the state cache missed: another process wrote, the entry was
// evicted, or the process restarted), folding the whole stream versus its snapshot plus the
// events after it. The stream is a TOTP enrollment with COLD_READ_EVENTS (default 1000)
// verifications, as a user who signs in twice a day has after about 18 months.
// COLD_READ_EVENTS below the snapshot interval prices what the snapshot lookup adds to a short stream.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { EnrollmentAggregate } from '../dist/application/aggregates.js';
import { makeLoadState } from '../dist/application/handle-command.js';
import { withEventValidation } from '../dist/infrastructure/event-codecs/validating-event-store.js';
import { createPostgresEventStore, eventStoreMigrations } from '../dist/infrastructure/postgres/event-store.js';
import { migrate } from '../dist/infrastructure/postgres/migrate.js';
import { createPostgresSnapshotStore, snapshotMigrations } from '../dist/infrastructure/postgres/snapshot-store.js';
import { createDatabase, dropDatabase } from './lib/resources.mjs';

const EVENTS = Number(process.env.COLD_READ_EVENTS ?? 1000);
const ROUNDS = Number(process.env.COLD_READ_ROUNDS ?? 200);
const DB = 'otp_verify_cold_read';

const url = await createDatabase(DB);
const pool = new pg.Pool({ connectionString: url, max: 4 });
try {
  await migrate(pool, [...eventStoreMigrations, ...snapshotMigrations]);
  const store = withEventValidation(createPostgresEventStore({ pool }));
  const snapshots = createPostgresSnapshotStore({ pool });
  const id = randomUUID().replace(/-/g, '');
  const stream = `enrollment-${id}`;
  const at = new Date().toISOString();
  const sealed = { key_id: randomUUID(), iv: 'AAAAAAAAAAAAAAAA', ciphertext: 'A'.repeat(44), tag: 'A'.repeat(24) };
  const metadata = { request_id: randomUUID(), trace_id: '0'.repeat(32), schema_version: 1, command: 'VerifyTotp' };
  const started = { type: 'EnrollmentStarted', data: { enrollment_id: id, app_id: randomUUID(), username: 'alice', method: 'TOTP', secret: sealed, totp: { digits: 6, period: 30, algorithm: 'SHA1' }, at }, metadata };
  await store.append(stream, [started, { type: 'EnrollmentActivated', data: { at }, metadata }], 'no_stream');
  for (let i = 0; i < EVENTS; i += 100) {
    const batch = Array.from({ length: Math.min(100, EVENTS - i) }, (_, k) => ({ type: 'TotpStepConsumed', data: { step: 58_000_000 + i + k, at }, metadata }));
    await store.append(stream, batch, 'any');
  }
  const whole = makeLoadState({ store });
  const withSnapshots = makeLoadState({ store, snapshots });
  const full = await whole(EnrollmentAggregate, stream);
  // Where the command path would have left it: the last multiple of the interval.
  const every = EnrollmentAggregate.snapshot.every;
  const events = await store.readStream(stream);
  const cut = Math.floor(events.length / every) * every - 1;
  const head = events.slice(0, cut + 1).map((e) => ({ type: e.type, data: e.data })).reduce(EnrollmentAggregate.decider.evolve, EnrollmentAggregate.decider.initialState);
  // A stream shorter than the interval has none: then this prices the snapshot lookup alone.
  if (cut >= 0) await snapshots.save({ stream, revision: cut, event_id: events[cut].id, version: EnrollmentAggregate.snapshot.version, state: head });
  if (!isDeepStrictEqual(await withSnapshots(EnrollmentAggregate, stream), full)) throw new Error('snapshot read differs from the whole stream');

  const time = async (load) => {
    for (let i = 0; i < 20; i++) await load(EnrollmentAggregate, stream);
    const cpu = process.cpuUsage();
    const samples = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = process.hrtime.bigint();
      await load(EnrollmentAggregate, stream);
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const used = process.cpuUsage(cpu);
    samples.sort((a, b) => a - b);
    return { p50: samples[Math.floor(ROUNDS / 2)], p99: samples[Math.floor(ROUNDS * 0.99)], cpuMs: (used.user + used.system) / 1000 / ROUNDS };
  };
  const a = await time(whole);
  const b = await time(withSnapshots);
  const fmt = (r) => `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.cpuMs.toFixed(2)} ms of this process's CPU`;
  console.log(`cold read of an enrollment of ${events.length} events (${ROUNDS} reads each):`);
  console.log(`  whole stream: ${fmt(a)}`);
  console.log(`  ${cut >= 0 ? `snapshot at ${cut} + ${events.length - 1 - cut} events` : 'no snapshot yet (one lookup)'}: ${fmt(b)}`);
  await store.close();
} finally {
  await pool.end();
  await dropDatabase(DB);
}
