/**
 * Decorates an EventStore so that nothing unreadable goes in and nothing unchecked comes out:
 * events are upcast to the current schema version and decoded on every read, and checked
 * (then stamped with the current version) before every append.
 */
import { SCHEMA_VERSION } from '../../application/handle-command.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../application/ports.js';
import { decodeEventData, isStoredEventType } from './codecs.js';
import { CorruptEvent, type EventLocation } from './corrupt-event.js';
import { eventUpcasters, upcast, type UpcasterRegistry } from './upcasters.js';

export type EventValidationOptions = {
  readonly upcasters?: UpcasterRegistry;
  /** The version events are written with and upcast to; defaults to SCHEMA_VERSION. */
  readonly currentVersion?: number;
  /** Sees every CorruptEvent before it is thrown (to log or count it: its message holds no data values). */
  readonly onInvalid?: (error: CorruptEvent) => void;
};

export const withEventValidation = (store: EventStore, options: EventValidationOptions = {}): EventStore => {
  const registry = options.upcasters ?? eventUpcasters;
  const current = options.currentVersion ?? SCHEMA_VERSION;

  const fail = (...args: ConstructorParameters<typeof CorruptEvent>): never => {
    const error = new CorruptEvent(...args);
    options.onInvalid?.(error);
    throw error;
  };

  /** Data of `type` written at `version`, in the current shape; otherwise a CorruptEvent. */
  const toCurrent = (where: EventLocation, type: string, data: unknown, version: number): unknown => {
    if (!isStoredEventType(type)) return fail(where, type, 'unknown-type', []);
    let upcasted: unknown;
    try {
      upcasted = upcast(registry, type, data, version, current);
    } catch {
      // The upcaster's own message may quote the data.
      return fail(where, type, 'invalid-data', [{ path: 'data', expected: `${type} of schema version ${version}` }]);
    }
    const decoded = decodeEventData(type, upcasted);
    return decoded._tag === 'Right' ? decoded.right : fail(where, type, 'invalid-data', decoded.left);
  };

  const decode = (event: RecordedEvent): RecordedEvent => {
    const version = event.metadata?.schema_version ?? 1;
    if (!Number.isInteger(version) || version < 1 || version > current)
      fail(event, event.type, 'unsupported-version', [{ path: 'metadata.schema_version', expected: `an integer from 1 to ${current}` }]);
    return { ...event, data: toCurrent(event, event.type, event.data, version) };
  };

  /** Only the current version may be written: older shapes exist only in the log. */
  const outgoing = (stream: string, event: NewEvent, index: number): NewEvent => {
    const version = event.metadata?.schema_version ?? current;
    if (version !== current)
      fail({ stream, index }, event.type, 'unsupported-version', [{ path: 'metadata.schema_version', expected: String(current) }]);
    toCurrent({ stream, index }, event.type, event.data, current);
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
