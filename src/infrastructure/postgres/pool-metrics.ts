import { metrics, type BatchObservableResult } from '@opentelemetry/api';
import type pg from 'pg';

/**
 * Each PostgreSQL pool's connections, as the semantic conventions for database client metrics
 * name them (`db.client.connection.*`, by `db.client.connection.pool.name`): how many are in
 * use and idle, the most it may open, and the requests waiting for one. A pool whose `used`
 * stays at its `max` with requests pending is what a slow database or a pool too small for the
 * load looks like, and which pool it is tells which: `main` (appends, reads, projections),
 * `abuse` (the send limits and decoy counts without Redis) or `health` (readiness probes).
 * (The pg instrumentation's own pool metrics are dropped: see telemetry/register.ts.)
 * Observed only when a metrics exporter is set; a no-op meter otherwise. Returns what stops it.
 */
export const observePools = (pools: Readonly<Record<string, pg.Pool>>): (() => void) => {
  const meter = metrics.getMeter('otp-verify');
  const count = meter.createObservableUpDownCounter('db.client.connection.count', { description: 'Connections of the pool, by state (used, idle)', unit: '{connection}' });
  const max = meter.createObservableUpDownCounter('db.client.connection.max', { description: 'The most connections the pool may open', unit: '{connection}' });
  const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', { description: 'Requests waiting for a connection of the pool', unit: '{request}' });
  const observe = (result: BatchObservableResult): void => {
    for (const [name, pool] of Object.entries(pools)) {
      const poolName = { 'db.client.connection.pool.name': name };
      result.observe(count, pool.totalCount - pool.idleCount, { ...poolName, 'db.client.connection.state': 'used' });
      result.observe(count, pool.idleCount, { ...poolName, 'db.client.connection.state': 'idle' });
      result.observe(max, pool.options.max ?? 10, poolName);
      result.observe(pending, pool.waitingCount, poolName);
    }
  };
  meter.addBatchObservableCallback(observe, [count, max, pending]);
  return () => meter.removeBatchObservableCallback(observe, [count, max, pending]);
};
