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

export type ReadModels = {
  readonly get: (collection: string, id: string) => Promise<Document | undefined>;
  /** Documents whose top-level `field` equals `value` (string comparison). */
  readonly findBy: (collection: string, field: string, value: string) => Promise<readonly Document[]>;
  /** Resolves once every projection has processed the event at `position` (read-your-writes). */
  readonly waitFor: (position: number) => Promise<void>;
  /** Position of the last event every projection (or only the one named) has processed. */
  readonly position: (projection?: string) => Promise<number>;
};
