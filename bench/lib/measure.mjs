// One measured window: peak RSS of the process under test, CPU by process group, and the
// window's bounds on the monotonic clock that V8 profiles use (for `profile-summary.mjs`).
// Separately, PostgreSQL transactions on the bench database over a span of work.
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchCpu } from './cpu.mjs';
import { watchMemory } from './processes.mjs';

const hrUs = () => Number(process.hrtime.bigint() / 1000n);

const pgCounters = async (database) => {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT xact_commit + xact_rollback AS xacts, tup_returned, tup_inserted FROM pg_stat_database WHERE datname = $1', [database]);
    return rows[0] ? Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)])) : undefined;
  } finally {
    await client.end();
  }
};

/** `others`: more processes to account for by name (a split worker), besides the server. */
export const startWindow = (pid, { database, others = {} } = {}) => {
  const memory = watchMemory(pid);
  const cpu = watchCpu({ server: pid, ...others }, database);
  const fromUs = hrUs();
  return () => ({ ...memory(), ...cpu(), window: { fromUs, toUs: hrUs() } });
};

/**
 * A backend that goes idle less than a second after publishing its statistics keeps the rest
 * for up to 10 s (PGSTAT_IDLE_INTERVAL), so counts are only right 10 s after the work.
 */
export const STATS_LAG_MS = 11_000;

/**
 * Counts the bench database's transactions from now until STATS_LAG_MS after the returned
 * function is called. Start it at least STATS_LAG_MS after earlier work, and divide by all the
 * work done in between.
 */
export const countTransactions = async (database) => {
  const before = await pgCounters(database);
  return async () => {
    await sleep(STATS_LAG_MS);
    const after = await pgCounters(database);
    return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  };
};
