/**
 * Groups concurrent look-ups into few statements, as appends are grouped in
 * event-store-batch.ts: at most `maxInFlight` statements run at once; look-ups asked for while
 * they do queue, and the next statement takes up to `maxBatch` of them. Under load that turns
 * many small queries (each a write and a read on a socket, a pool checkout and a statement for
 * PostgreSQL to run) into few; a lone look-up still runs at once. A failed statement fails every
 * look-up it carried, and only those.
 *
 * One statement at a time by default: measured on 2 cores with no state cache, four at a time
 * rarely grouped anything (a look-up seldom waited), while one at a time cut the service's CPU
 * per TOTP verification by a fifth and PostgreSQL statements from 4.5 to 2.7 per verification.
 * A statement still running after `releaseAfterMs` gives up its slot (its look-ups keep waiting
 * for it): a stuck connection, say a half-open socket after a failover, then holds up only the
 * look-ups it carries, as it did before grouping, not every look-up of the process. So a
 * look-up waits for the statements ahead of it, each for at most that long.
 */
import type { Link } from '@opentelemetry/api';
import { callerLink, runShared } from './shared-statement.js';

export type GroupOptions = {
  /** The span of a statement whose callers are traced (shared-statement.ts); default 'grouped statement'. */
  readonly spanName?: string;
  /** Most look-ups in one statement (default 100). */
  readonly maxBatch?: number;
  /** Most statements running at once (default 1). */
  readonly maxInFlight?: number;
  /** A statement running longer than this stops holding its slot (default 1000 ms). */
  readonly releaseAfterMs?: number;
};

export type Grouped<K, R> = {
  readonly get: (key: K) => Promise<R>;
  readonly stats: () => { asks: number; statements: number };
  /** Resolves once nothing is queued or running (for a store's close, before its pool ends). */
  readonly drained: () => Promise<void>;
};

type Pending<K, R> = { readonly key: K; readonly link: Link | undefined; readonly resolve: (result: R) => void; readonly reject: (error: unknown) => void };

/** `run` answers a group of keys with one result per key, in the same order. */
export const createGrouped = <K, R>(run: (keys: readonly K[]) => Promise<readonly R[]>, options: GroupOptions = {}): Grouped<K, R> => {
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 100));
  const maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 1));
  const releaseAfterMs = Math.max(0, options.releaseAfterMs ?? 1000);
  const running = new Set<Promise<void>>();
  const queue: Pending<K, R>[] = [];
  const counts = { asks: 0, statements: 0 };
  let inFlight = 0;
  let scheduled = false;

  const spanName = options.spanName ?? 'grouped statement';
  const settle = async (batch: readonly Pending<K, R>[]): Promise<void> => {
    try {
      counts.statements += 1;
      // Outside every caller's context: the statement is all of theirs (shared-statement.ts).
      const results = await runShared(
        spanName,
        batch.map((pending) => pending.link),
        () => run(batch.map((pending) => pending.key)),
      );
      if (results.length !== batch.length) throw new Error(`A grouped statement answered ${results.length} look-ups of ${batch.length}`);
      batch.forEach((pending, i) => pending.resolve(results[i]!));
    } catch (error) {
      batch.forEach((pending) => pending.reject(error));
    }
  };

  const pump = (): void => {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      counts.asks += batch.length;
      inFlight += 1;
      let holding = true;
      const release = (): void => {
        if (!holding) return;
        holding = false;
        inFlight -= 1;
        pump();
      };
      const slow = setTimeout(release, releaseAfterMs);
      slow.unref();
      const statement = settle(batch).finally(() => {
        clearTimeout(slow);
        running.delete(statement);
        release();
      });
      running.add(statement);
    }
  };

  return {
    get: (key) =>
      new Promise<R>((resolve, reject) => {
        queue.push({ key, link: callerLink(), resolve, reject });
        // Look-ups asked for in the same turn travel together, even when a statement slot is free.
        if (!scheduled && inFlight < maxInFlight) {
          scheduled = true;
          queueMicrotask(pump);
        }
      }),
    stats: () => ({ ...counts }),
    drained: async () => {
      while (queue.length > 0 || running.size > 0)
        await (running.size > 0 ? Promise.allSettled([...running]) : new Promise((resolve) => setImmediate(resolve)));
    },
  };
};
