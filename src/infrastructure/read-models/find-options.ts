/**
 * `FindOptions` as every read-model store applies them: the in-memory store with `narrow`, the
 * PostgreSQL one in SQL (read-models-schema.ts), both checked by `checkFindOptions` first.
 */
import type { Document, FieldRange, FindOptions } from '../../application/read-models.js';

/** Refuses what a store could only answer differently from another (a NaN bound, a negative limit). */
export const checkFindOptions = ({ ranges = [], limit }: FindOptions): void => {
  for (const { field, above, atMost } of ranges) {
    if (above !== undefined && !Number.isFinite(above)) throw new RangeError(`range of ${field}: above must be a finite number`);
    if (atMost !== undefined && !Number.isFinite(atMost)) throw new RangeError(`range of ${field}: atMost must be a finite number`);
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new RangeError('limit must be a non-negative integer');
};

const numberAt = (doc: Document, field: string): number | undefined => {
  const value = doc[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

const inside = (doc: Document, { field, above, atMost, orMissing }: FieldRange): boolean => {
  const n = numberAt(doc, field);
  if (n === undefined) return orMissing === true;
  return (above === undefined || n > above) && (atMost === undefined || n <= atMost);
};

/** The documents (with their ids) that `options` (checked) keep, in its order, at most its limit. */
export const narrow = (entries: readonly (readonly [string, Document])[], { ranges = [], orderBy, limit }: FindOptions): Document[] => {
  const kept = entries.filter(([, doc]) => ranges.every((range) => inside(doc, range)));
  const key = (doc: Document): number => (orderBy === undefined ? 0 : (numberAt(doc, orderBy) ?? Infinity));
  // Infinity - Infinity is NaN, falsy: two documents without the field fall through to their ids.
  kept.sort(([a, x], [b, y]) => key(x) - key(y) || (a < b ? -1 : a > b ? 1 : 0));
  return (limit === undefined ? kept : kept.slice(0, limit)).map(([, doc]) => doc);
};
