import { addWaiter, type Waiter } from '../read-models/waiters.js';

/**
 * Read-your-writes across processes: the runner may live in another process, so waiters poll
 * the checkpoints table. One poll loop per instance serves every pending waiter and runs only
 * while some wait; a failed poll is retried until the waiters time out.
 */
export type CheckpointWaiter = {
  readonly waitFor: (position: number, timeoutMs: number, abandon?: AbortSignal) => Promise<void>;
  /** Rejects every pending wait. */
  readonly cancelAll: (error: Error) => void;
};


export const createCheckpointWaiter = (minCheckpoint: () => Promise<number>, pollMs: number): CheckpointWaiter => {
  const waiters = new Set<Waiter>();
  let polling = false;
  let seen = 0;

  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      while (waiters.size > 0) {
        try {
          seen = await minCheckpoint();
          for (const waiter of waiters) if (waiter.position <= seen) waiter.finish();
        } catch {
          // The database may be back before the waits time out; the timeout reports the failure.
        }
        if (waiters.size > 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    } finally {
      polling = false;
    }
  };

  const waitFor = (position: number, timeoutMs: number, abandon?: AbortSignal): Promise<void> => {
    const waiting = addWaiter(waiters, position, timeoutMs, () => seen, abandon);
    void poll();
    return waiting;
  };

  return {
    waitFor,
    cancelAll: (error) => waiters.forEach((waiter) => waiter.finish(error)),
  };
};
