/**
 * Pure translations of events: our NewEvent to the client's JSON event data, and the client's
 * resolved events back to RecordedEvent, dropping system events and other namespaces' streams.
 */
import { randomUUID } from 'node:crypto';
import type { JSONEventData, JSONType, Position } from '@kurrent/kurrentdb-client';
import type { EventMetadata, NewEvent, RecordedEvent } from '../../application/ports.js';
import { toGlobalPosition, toRevision } from './kurrentdb-mapping.js';

/** Events the server writes for itself: `$`-prefixed types ($metadata, $> links, ...) or streams. */
export const isSystemEvent = (event: { readonly type: string; readonly streamId: string }): boolean =>
  event.type.startsWith('$') || event.streamId.startsWith('$');

/** A stream namespace: our stream names are stored as `prefix + name` and read back without it. */
export type StreamNamespace = {
  readonly prefix: string;
  readonly toServer: (stream: string) => string;
  /** Our name for a server stream, or null when it lies outside the namespace. */
  readonly fromServer: (streamId: string) => string | null;
};

export const createStreamNamespace = (prefix = ''): StreamNamespace => {
  if (prefix.startsWith('$')) throw new Error('A KurrentDB stream prefix cannot start with "$": those are system streams');
  return {
    prefix,
    toServer: (stream) => prefix + stream,
    fromServer: (streamId) => (streamId.startsWith(prefix) ? streamId.slice(prefix.length) : null),
  };
};

/** JSON is produced here, so an unserializable event fails its append before any I/O. */
export const toEventData = (event: NewEvent): JSONEventData => {
  // Any JSON value is valid data on the wire, though the client's type only names containers.
  const data = JSON.parse(JSON.stringify(event.data) ?? 'null') as JSONType;
  const metadata = JSON.parse(JSON.stringify(event.metadata ?? {})) as JSONType;
  return { id: randomUUID(), contentType: 'application/json', type: event.type, data, metadata };
};

/** The parts of the client's ResolvedEvent / AllStreamResolvedEvent we read. */
export type ResolvedEventShape = {
  readonly event?: {
    readonly streamId: string;
    readonly id: string;
    readonly revision: bigint;
    readonly type: string;
    readonly isJson: boolean;
    readonly created: Date;
    readonly data: unknown;
    readonly metadata: unknown;
    readonly position?: Position;
  };
  readonly commitPosition?: bigint;
};

export const positionOf = (resolved: ResolvedEventShape): number =>
  toGlobalPosition(resolved.event?.position?.commit ?? resolved.commitPosition);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

const decodeData = (data: unknown, isJson: boolean, where: string): unknown => {
  if (isJson) return data;
  try {
    return JSON.parse(Buffer.from(data as Uint8Array).toString('utf8')) as unknown;
  } catch {
    throw new Error(`Event ${where} is not JSON; this store only reads JSON events`);
  }
};

/** Our view of a server event; null for system events and streams outside the namespace. */
export const toRecordedEvent = (resolved: ResolvedEventShape, namespace: StreamNamespace): RecordedEvent | null => {
  const event = resolved.event;
  if (!event || isSystemEvent(event)) return null;
  const stream = namespace.fromServer(event.streamId);
  if (stream === null) return null;
  const where = `${event.id} in ${event.streamId}`;
  if (event.metadata !== undefined && !isPlainObject(event.metadata)) throw new Error(`Event ${where} has metadata that is not a JSON object`);
  if (Number.isNaN(event.created.getTime())) throw new Error(`Event ${where} has no valid creation time`);
  return {
    id: event.id,
    stream,
    revision: toRevision(event.revision),
    position: positionOf(resolved),
    type: event.type,
    data: decodeData(event.data, event.isJson, where),
    metadata: (event.metadata ?? {}) as EventMetadata,
    recorded_at: event.created.toISOString(),
  };
};

