/**
 * Serializes work per key inside one process. Commands on the same stream then queue instead
 * of racing to a version conflict; across processes the event store's expected revision
 * remains the guarantee.
 */
export type KeyedLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

export const createKeyedLock = (): KeyedLock => {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
};
