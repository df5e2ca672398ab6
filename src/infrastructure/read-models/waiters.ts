/** Pending read-your-writes waits, shared by the in-memory and PostgreSQL read models. */
export type Waiter = { readonly position: number; readonly finish: (error?: Error) => void };

/**
 * Registers a wait for `position` in `waiters`; it settles when something calls its `finish`
 * (reached, or failed), rejects after `timeoutMs` naming where the read models were, or when
 * `abandon` aborts (whoever waited no longer does: nothing should go on polling for it).
 */
export const addWaiter = (waiters: Set<Waiter>, position: number, timeoutMs: number, reached: () => number, abandon?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => finish(new Error(`Read models did not reach position ${position} within ${timeoutMs} ms (at ${reached()})`)), timeoutMs)
      : undefined;
    const abandoned = (): void => finish(new Error(`The wait for position ${position} was abandoned`));
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      abandon?.removeEventListener('abort', abandoned);
      waiters.delete(waiter);
      if (error) reject(error);
      else resolve();
    };
    const waiter: Waiter = { position, finish };
    waiters.add(waiter);
    if (abandon?.aborted) abandoned();
    else abandon?.addEventListener('abort', abandoned, { once: true });
  });
