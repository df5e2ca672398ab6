/**
 * Decorates an EventStore so that nothing unreadable goes in and nothing unchecked comes out:
 * events are upcast to the current schema version and decoded on every read, and checked
 * (then stamped with the current version) before every append. Appends are strict about
 * fields; reads leave out fields this build does not know (a newer build's optional ones), so
 * that two builds can share the log during a rolling upgrade (docs/ARCHITECTURE.md,
 * "Changing events").
 */
import { SCHEMA_VERSION } from '../../application/handle-command.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../application/ports.js';
import { decodeEventData, isStoredEventType, readEventData, type StoredEventType } from './codecs.js';
import { CorruptEvent, type EventLocation } from './corrupt-event.js';
import { eventUpcasters, upcast, type UpcasterRegistry } from './upcasters.js';

export type EventValidationOptions = {
  readonly upcasters?: UpcasterRegistry;
  /** The version events are written with and upcast to; defaults to SCHEMA_VERSION. */
  readonly currentVersion?: number;
  /** Sees every CorruptEvent before it is thrown (to log or count it: its message holds no data values). */
  readonly onInvalid?: (error: CorruptEvent) => void;
  /**
   * Told, once per event type and field in the life of the store, that read events carry a
   * field this build does not know and leaves out: its path, record keys and array indices as
   * `*` (never a value).
   */
  readonly onIgnoredField?: (eventType: string, path: string) => void;
};

export const withEventValidation = (store: EventStore, options: EventValidationOptions = {}): EventStore => {
  const registry = options.upcasters ?? eventUpcasters;
  const current = options.currentVersion ?? SCHEMA_VERSION;

  const fail = (...args: ConstructorParameters<typeof CorruptEvent>): never => {
    const error = new CorruptEvent(...args);
    options.onInvalid?.(error);
    throw error;
  };

  const reported = new Set<string>();
  const ignored = (type: string, paths: readonly string[]): void => {
    for (const path of paths) {
      const key = `${type} ${path}`;
      if (reported.has(key)) continue;
      reported.add(key);
      options.onIgnoredField?.(type, path);
    }
  };

  /** Data of `type` written at `version`, upcast to the current version; otherwise a CorruptEvent. */
  const upcastData = (where: EventLocation, type: string, data: unknown, version: number): [StoredEventType, unknown] => {
    if (!isStoredEventType(type)) return fail(where, type, 'unknown-type', []);
    try {
      return [type, upcast(registry, type, data, version, current)];
    } catch {
      // The upcaster's own message may quote the data.
      return fail(where, type, 'invalid-data', [{ path: 'data', expected: `${type} of schema version ${version}` }]);
    }
  };

  const decode = (event: RecordedEvent): RecordedEvent => {
    const version = event.metadata?.schema_version ?? 1;
    if (!Number.isInteger(version) || version < 1 || version > current)
      fail(event, event.type, 'unsupported-version', [{ path: 'metadata.schema_version', expected: `an integer from 1 to ${current}` }]);
    const read = readEventData(...upcastData(event, event.type, event.data, version));
    if (read._tag === 'Left') return fail(event, event.type, 'invalid-data', read.left);
    if (read.right.ignored.length > 0) ignored(event.type, read.right.ignored);
    return { ...event, data: read.right.data };
  };

  /** Only the current version may be written: older shapes exist only in the log. */
  const outgoing = (stream: string, event: NewEvent, index: number): NewEvent => {
    const version = event.metadata?.schema_version ?? current;
    if (version !== current)
      fail({ stream, index }, event.type, 'unsupported-version', [{ path: 'metadata.schema_version', expected: String(current) }]);
    const checked = decodeEventData(...upcastData({ stream, index }, event.type, event.data, current));
    if (checked._tag === 'Left') fail({ stream, index }, event.type, 'invalid-data', checked.left);
    return { ...event, metadata: { ...event.metadata, schema_version: current } };
  };

  return {
    append: async (stream, events, expected) => store.append(stream, events.map((e, i) => outgoing(stream, e, i)), expected),
    readStream: async (stream, options) => (await store.readStream(stream, options)).map(decode),
    readAll: async (after, limit) => (await store.readAll(after, limit)).map(decode),
    subscribe: (after, handler) => store.subscribe(after, (event) => handler(decode(event))),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
};
