import { describe, expect, it } from '@jest/globals';
import {
  createStreamNamespace,
  isSystemEvent,
  positionOf,
  toEventData,
  toRecordedEvent,
  type ResolvedEventShape,
} from '../../../src/infrastructure/kurrentdb/kurrentdb-events.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const plain = createStreamNamespace();

type Event = NonNullable<ResolvedEventShape['event']>;
const resolved = (overrides: Partial<Event> = {}, commitPosition?: bigint): ResolvedEventShape => ({
  event: {
    streamId: 'challenge-1',
    id: '0b4f2c2e-7a55-4f0b-9a8e-5d0c1f7e2a10',
    revision: 3n,
    type: 'ChallengeIssued',
    isJson: true,
    created: new Date('2024-03-03T10:11:12.345Z'),
    data: { code_hash: 'ab' },
    metadata: { schema_version: 2, request_id: 'r-1' },
    position: { commit: 9876n, prepare: 9876n },
    ...overrides,
  },
  ...(commitPosition === undefined ? {} : { commitPosition }),
});

describe('KurrentDB events: writing', () => {
  it('builds JSON event data with a fresh UUID, the type, data and metadata', () => {
    const first = toEventData({ type: 'Placed', data: { total: 3 }, metadata: { actor: 'me' } });
    const second = toEventData({ type: 'Placed', data: { total: 3 } });
    expect(first).toMatchObject({ contentType: 'application/json', type: 'Placed', data: { total: 3 }, metadata: { actor: 'me' } });
    expect(first.id).toMatch(UUID);
    expect(second.id).not.toBe(first.id);
    expect(second.metadata).toEqual({});
  });

  it('copies payloads, so later changes by the caller do not reach the server', () => {
    const data = { list: [1, 2] };
    const metadata = { actor: 'me' };
    const built = toEventData({ type: 'T', data, metadata });
    data.list.push(3);
    metadata.actor = 'someone else';
    expect(built.data).toEqual({ list: [1, 2] });
    expect(built.metadata).toEqual({ actor: 'me' });
  });

  it('stores undefined data as null and keeps scalar JSON values', () => {
    expect(toEventData({ type: 'T', data: undefined }).data).toBeNull();
    expect(toEventData({ type: 'T', data: 'text' }).data).toBe('text');
    expect(toEventData({ type: 'T', data: 7 }).data).toBe(7);
  });

  it('fails on unserializable data before anything is sent', () => {
    expect(() => toEventData({ type: 'T', data: { n: 1n } })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => toEventData({ type: 'T', data: cyclic })).toThrow(TypeError);
  });
});

describe('KurrentDB events: namespaces and system events', () => {
  it('recognises system events by type or stream', () => {
    expect(isSystemEvent({ type: '$metadata', streamId: '$$challenge-1' })).toBe(true);
    expect(isSystemEvent({ type: '$>', streamId: '$ce-challenge' })).toBe(true);
    expect(isSystemEvent({ type: '$>', streamId: 'linked-by-a-projection' })).toBe(true);
    expect(isSystemEvent({ type: 'Something', streamId: '$stats-127.0.0.1:2113' })).toBe(true);
    expect(isSystemEvent({ type: 'ChallengeIssued', streamId: 'challenge-1' })).toBe(false);
    expect(isSystemEvent({ type: 'Cost$', streamId: 'a$b' })).toBe(false);
  });

  it('prefixes stream names and strips the prefix, refusing streams outside it', () => {
    const ns = createStreamNamespace('run-42-');
    expect(ns.toServer('challenge-1')).toBe('run-42-challenge-1');
    expect(ns.fromServer('run-42-challenge-1')).toBe('challenge-1');
    expect(ns.fromServer('run-43-challenge-1')).toBeNull();
    expect(plain.toServer('challenge-1')).toBe('challenge-1');
    expect(plain.fromServer('anything')).toBe('anything');
  });

  it('refuses a prefix that would make every stream a system stream', () => {
    expect(() => createStreamNamespace('$otp-')).toThrow(/cannot start with "\$"/);
  });
});

describe('KurrentDB events: reading', () => {
  it('converts a resolved event into a RecordedEvent', () => {
    expect(toRecordedEvent(resolved(), plain)).toEqual({
      id: '0b4f2c2e-7a55-4f0b-9a8e-5d0c1f7e2a10',
      stream: 'challenge-1',
      revision: 3,
      position: 9876,
      type: 'ChallengeIssued',
      data: { code_hash: 'ab' },
      metadata: { schema_version: 2, request_id: 'r-1' },
      recorded_at: '2024-03-03T10:11:12.345Z',
    });
  });

  it('strips the namespace prefix and drops events outside it', () => {
    const ns = createStreamNamespace('run-42-');
    expect(toRecordedEvent(resolved({ streamId: 'run-42-challenge-1' }), ns)).toMatchObject({ stream: 'challenge-1' });
    expect(toRecordedEvent(resolved({ streamId: 'challenge-1' }), ns)).toBeNull();
  });

  it('drops system events and entries without an event', () => {
    expect(toRecordedEvent(resolved({ type: '$metadata', streamId: '$$challenge-1' }), plain)).toBeNull();
    expect(toRecordedEvent(resolved({ type: '$>' }), plain)).toBeNull();
    expect(toRecordedEvent({ commitPosition: 5n }, plain)).toBeNull();
  });

  it('defaults missing metadata to {} and refuses metadata that is not a JSON object', () => {
    expect(toRecordedEvent(resolved({ metadata: undefined }), plain)!.metadata).toEqual({});
    expect(() => toRecordedEvent(resolved({ metadata: [1, 2] }), plain)).toThrow(/metadata that is not a JSON object/);
    expect(() => toRecordedEvent(resolved({ metadata: new Uint8Array([1]) }), plain)).toThrow(/not a JSON object/);
  });

  it('decodes JSON written without the JSON flag and refuses binary payloads', () => {
    const bytes = new TextEncoder().encode('{"ok":true}');
    expect(toRecordedEvent(resolved({ isJson: false, data: bytes }), plain)!.data).toEqual({ ok: true });
    expect(() => toRecordedEvent(resolved({ isJson: false, data: new Uint8Array([0xff, 0x00]) }), plain)).toThrow(/not JSON/);
  });

  it('takes the position from the event, else from the resolved commit position', () => {
    expect(positionOf(resolved({ position: undefined }, 1234n))).toBe(1234);
    expect(positionOf(resolved({}, 1n))).toBe(9876);
    expect(() => positionOf(resolved({ position: undefined }))).toThrow(/no log position/);
    expect(() => toRecordedEvent(resolved({ position: { commit: 2n ** 64n - 1n, prepare: 0n } }), plain)).toThrow(/no log position/);
  });

  it('refuses unsafe revisions and invalid creation times instead of misreporting them', () => {
    expect(() => toRecordedEvent(resolved({ revision: 2n ** 60n }), plain)).toThrow(RangeError);
    expect(() => toRecordedEvent(resolved({ created: new Date(Number.NaN) }), plain)).toThrow(/creation time/);
  });
});
