/** Revision of the last event the writer saw; 'no_stream' when it expects none; 'any' skips the check. */
export type ExpectedRevision = number | 'no_stream' | 'any';

export type EventMetadata = {
  readonly schema_version?: number;
  readonly request_id?: string;
  readonly trace_id?: string;
  readonly actor?: string;
  readonly [key: string]: unknown;
};

export type NewEvent = { readonly type: string; readonly data: unknown; readonly metadata?: EventMetadata };

export type RecordedEvent = {
  readonly id: string;
  readonly stream: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: number;
  /**
   * Position in the global log: at least 1, strictly increasing in commit order, not necessarily
   * consecutive. Within a stream, positions grow with revisions (pages of a stream past a
   * position rely on it: audit/stream-after.ts).
   */
  readonly position: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recorded_at: string;
};

export type AppendResult = {
  /** Revision of the last appended event (the next expected revision). */
  readonly revision: number;
  /** Global position of the last appended event. */
  readonly position: number;
};

/** Thrown by `append` when the stream is not at the expected revision. */
export class WrongExpectedRevision extends Error {
  override readonly name = 'WrongExpectedRevision';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

export type Subscription = { readonly close: () => Promise<void> };

export type ReadStreamOptions = {
  /** The first revision wanted, a non-negative integer (0: the whole stream). */
  readonly fromRevision?: number;
  /** At most this many events, a positive integer (default: all of them). */
  readonly limit?: number;
};

export type EventStore = {
  /** Appends atomically; rejects with WrongExpectedRevision on a concurrency conflict. */
  readonly append: (stream: string, events: readonly NewEvent[], expected: ExpectedRevision) => Promise<AppendResult>;
  /**
   * Events of one stream in revision order, from `fromRevision` (default 0) on, at most `limit`
   * of them; [] when the stream does not exist or has no event that recent.
   */
  readonly readStream: (stream: string, options?: ReadStreamOptions) => Promise<readonly RecordedEvent[]>;
  /** Up to `limit` events with position > `after`, in position order. */
  readonly readAll: (after: number, limit: number) => Promise<readonly RecordedEvent[]>;
  /**
   * Calls `handler` for every event with position > `after`, in order, first catching up,
   * then live. The handler's promise is awaited before the next event is delivered.
   */
  readonly subscribe: (after: number, handler: (event: RecordedEvent) => Promise<void>) => Subscription;
  /** Position of the last event in the log (0 when empty). */
  readonly headPosition: () => Promise<number>;
  readonly close: () => Promise<void>;
};

/**
 * A stream's folded state at one revision, so a long stream is read from there instead of from
 * its start. Derived data, never the record: the log alone is what auditors replay, and a
 * snapshot is used only when its `version` (the aggregate's state format) is the current one
 * and the log still holds, at `revision`, the event it was taken after (`event_id`).
 */
export type Snapshot = {
  readonly stream: string;
  readonly revision: number;
  /** Id of the stream's event at `revision`. */
  readonly event_id: string;
  readonly version: string;
  /** JSON-serialisable state. */
  readonly state: unknown;
  /** An integrity tag over everything above, set and checked by the service; stores keep it verbatim. */
  readonly seal?: string;
};

export type SnapshotStore = {
  /** The stored snapshot of `stream`, or undefined. */
  readonly load: (stream: string) => Promise<Snapshot | undefined>;
  /** Stores `snapshot` in place of the stream's previous one, whatever its revision. */
  readonly save: (snapshot: Snapshot) => Promise<void>;
};
