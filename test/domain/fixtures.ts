/** Fixed instants: specs never read the clock. */
export const T0 = '2025-03-03T09:00:00.000Z';

/** T0 plus a number of seconds, computed independently of the domain's time helpers. */
export const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
