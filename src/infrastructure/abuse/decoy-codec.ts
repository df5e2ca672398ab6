/**
 * A name's decoy counts as the shared stores keep them (Redis, PostgreSQL): one compact JSON
 * text, compared whole by their compare-and-set. A stored value that does not decode is read as
 * no counts (the next write replaces it).
 */
import type { DecoyRead } from '../../application/ports.js';
import type { AttemptCounts } from '../../domain/enrollment/index.js';
import { fromMillis, toMillis } from '../../domain/shared/time.js';

/** Compact: failures, the end of the lock-out and the failure times, in ms; and who wrote it. */
type Stored = { readonly f: number; readonly l: number | null; readonly r: readonly number[]; readonly b: string };

export const encodeDecoy = (counts: AttemptCounts, writer: string): string =>
  JSON.stringify({
    f: counts.failures,
    l: counts.locked_until === null ? null : toMillis(counts.locked_until),
    r: counts.recent_failures.map(toMillis),
    b: writer,
  } satisfies Stored);

const isTime = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

export const decodeDecoy = (raw: string): Pick<DecoyRead, 'counts' | 'writer'> => {
  let value: Partial<Stored>;
  try {
    value = JSON.parse(raw) as Partial<Stored>;
  } catch {
    return { counts: null, writer: null };
  }
  const { f, l, r, b } = value ?? {};
  if (!Number.isSafeInteger(f) || (f as number) < 0 || !(l === null || isTime(l)) || !Array.isArray(r) || !r.every(isTime) || typeof b !== 'string')
    return { counts: null, writer: null };
  return { counts: { failures: f as number, locked_until: l === null ? null : fromMillis(l), recent_failures: r.map(fromMillis) }, writer: b };
};
