/**
 * Calls `fn` and always returns a promise: a synchronous throw becomes a rejection. For code on
 * the request path written without async functions (each async function costs a promise and,
 * under AsyncLocalStorage, its hooks; docs/performance.md), which must still never throw
 * synchronously to its callers.
 */
export const callAsync = <T>(fn: () => T | Promise<T>): Promise<T> => {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
};
