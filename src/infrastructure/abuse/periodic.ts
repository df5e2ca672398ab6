/** Background clean-up of tables that hold expiring rows (rate limits, decoy counts; PostgreSQL and SQLite). */
import type { Logger } from '../../application/ports.js';

/** What such a table's adapter adds to its port. */
export type Swept = {
  /** Deletes what has expired now (also done periodically): how many rows or apps. */
  readonly sweep: () => Promise<number>;
  /** Stops the periodic sweeps and resolves once one under way has ended: call it before the pool ends. */
  readonly close: () => Promise<void>;
};

/** Runs `sweep` every `everyMs` (not keeping the process alive), a failure logged as `what failed`. */
export const sweptEvery = (sweep: () => Promise<number>, everyMs: number, what: string, logger?: Logger): Swept => {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = sweep().catch((error: Error) => logger?.warn(`${what} failed`, { error: error.message }));
  }, everyMs);
  timer.unref();
  return {
    sweep,
    close: async () => {
      clearInterval(timer);
      await running;
    },
  };
};
