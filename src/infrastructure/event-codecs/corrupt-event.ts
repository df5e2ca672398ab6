import type { FieldIssue } from './codecs.js';

/** Where the event sits: a recorded one has its stream coordinates, an outgoing one its batch index. */
export type EventLocation =
  | { readonly stream: string; readonly revision: number; readonly position: number }
  | { readonly stream: string; readonly index: number };

export type CorruptEventReason = 'unknown-type' | 'unsupported-version' | 'invalid-data';

/**
 * An event that does not match its codec: on read, the log holds something this code cannot
 * interpret; on append, a bug tried to write it. Names fields only: data may hold secrets.
 */
export class CorruptEvent extends Error {
  override readonly name = 'CorruptEvent';
  readonly stream: string;
  readonly revision: number | undefined;
  readonly position: number | undefined;
  /** Index in the batch passed to `append` (outgoing events have no revision or position yet). */
  readonly index: number | undefined;

  constructor(
    location: EventLocation,
    readonly eventType: string,
    readonly reason: CorruptEventReason,
    readonly issues: readonly FieldIssue[],
  ) {
    const where =
      'position' in location
        ? `stream ${location.stream} revision ${location.revision} position ${location.position}`
        : `appending to stream ${location.stream} (batch index ${location.index})`;
    const what = issues.map(({ path, expected }) => `${path}: ${expected}`).join('; ');
    super(`Corrupt event (${reason}) at ${where}, type ${JSON.stringify(String(eventType).slice(0, 100))}${what ? `: ${what}` : ''}`);
    this.stream = location.stream;
    this.revision = 'revision' in location ? location.revision : undefined;
    this.position = 'position' in location ? location.position : undefined;
    this.index = 'index' in location ? location.index : undefined;
  }

  get paths(): readonly string[] {
    return this.issues.map((issue) => issue.path);
  }
}
