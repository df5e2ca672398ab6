import { callAsync } from './call-async.js';

/**
 * Serializes work per key inside one process. Commands on the same stream then queue instead
 * of racing to a version conflict; across processes the event store's expected revision
 * remains the guarantee. Not re-entrant: work must not take the lock of its own key again
 * (it would wait on itself; a synchronous re-entry would run beside it).
 */
export type KeyedLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

/**
 * A free key runs `fn` at once; a held one chains it on the holder's tail. Written without
 * async functions: every request takes this lock, and each promise costs its allocation and,
 * under AsyncLocalStorage, the promise hooks (docs/performance.md).
 */
export const createKeyedLock = (): KeyedLock => {
  const tails = new Map<string, Promise<void>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key);
    const run = previous === undefined ? callAsync(fn) : previous.then(fn);
    const release = (): void => {
      if (tails.get(key) === tail) tails.delete(key);
    };
    const tail: Promise<void> = run.then(release, release);
    tails.set(key, tail);
    return run;
  };
};
