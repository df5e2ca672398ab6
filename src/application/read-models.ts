/**
 * Read models are documents in named collections, produced by projections: pure functions
 * from one recorded event to a list of changes. The same projection code feeds every store
 * (in memory, PostgreSQL); stores only apply changes and answer queries.
 */
import type { RecordedEvent } from './ports.js';

export type Document = Readonly<Record<string, unknown>>;

export type ProjectionChange =
  | { readonly op: 'put'; readonly collection: string; readonly id: string; readonly doc: Document }
  /** Shallow-merges `patch` into an existing document; a no-op when the document is missing. */
  | { readonly op: 'merge'; readonly collection: string; readonly id: string; readonly patch: Document }
  | { readonly op: 'delete'; readonly collection: string; readonly id: string };

export type Projection = {
  readonly name: string;
  /** The collections this projection alone writes (a rebuild clears them). */
  readonly collections: readonly string[];
  readonly apply: (event: RecordedEvent) => readonly ProjectionChange[];
};

/**
 * A range of a numeric top-level field: above `above` (exclusive) and at most `atMost`. A
 * document without a number there is outside it, unless `orMissing`.
 */
export type FieldRange = { readonly field: string; readonly above?: number; readonly atMost?: number; readonly orMissing?: boolean };

export type FindOptions = {
  /** Only documents inside every one of these ranges. */
  readonly ranges?: readonly FieldRange[];
  /** Ascending by this numeric top-level field (documents without a number there last), then by id; by id alone otherwise. */
  readonly orderBy?: string;
  /** At most this many, the first in that order. */
  readonly limit?: number;
};

export type ReadModels = {
  readonly get: (collection: string, id: string) => Promise<Document | undefined>;
  /** Documents whose top-level `field` equals `value` (string comparison), narrowed and ordered by `options`. */
  readonly findBy: (collection: string, field: string, value: string, options?: FindOptions) => Promise<readonly Document[]>;
  /** Resolves once every projection has processed the event at `position` (read-your-writes). */
  readonly waitFor: (position: number) => Promise<void>;
  /** Position of the last event every projection (or only the one named) has processed. */
  readonly position: (projection?: string) => Promise<number>;
};
