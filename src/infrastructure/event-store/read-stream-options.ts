/** The options of EventStore.readStream, checked the same way by every adapter. */
import type { ReadStreamOptions } from '../../application/ports.js';

/**
 * The first revision `options` asks for, 0 when unset. Anything but an integer from 0 to `max`
 * (the largest revision the adapter can store) rejects with a RangeError: a bad revision is a
 * caller's bug, and reading a clamped or rounded range instead would hide it.
 */
export const fromRevisionOf = (options: ReadStreamOptions | undefined, max = Number.MAX_SAFE_INTEGER): number => {
  const from = options?.fromRevision ?? 0;
  if (!Number.isInteger(from) || from < 0 || from > max) {
    throw new RangeError(`fromRevision must be an integer from 0 to ${max}, got ${String(from)}`);
  }
  return from;
};

/**
 * How many events `options` asks for at most, undefined when unset (all). Anything but an
 * integer from 1 to 2^31 - 1 rejects with a RangeError, as a bad `fromRevision` does.
 */
export const limitOf = (options: ReadStreamOptions | undefined): number | undefined => {
  const limit = options?.limit;
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 1 || limit > 2 ** 31 - 1) throw new RangeError(`limit must be an integer from 1 to ${2 ** 31 - 1}, got ${String(limit)}`);
  return limit;
};
