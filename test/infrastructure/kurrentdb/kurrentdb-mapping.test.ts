import { describe, expect, it } from '@jest/globals';
import { ANY, NO_STREAM, START, UnavailableError, WrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import { WrongExpectedRevision } from '../../../src/application/ports.js';
import {
  fromCurrentState,
  isUnavailable,
  normalizeConnectionString,
  toGlobalPosition,
  toReadPosition,
  toRevision,
  toStreamState,
  toWrongExpectedRevision,
} from '../../../src/infrastructure/kurrentdb/kurrentdb-mapping.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

describe('KurrentDB mapping: expected revisions', () => {
  it('maps any, no_stream and numbers to the client stream states', () => {
    expect(toStreamState('any')).toBe(ANY);
    expect(toStreamState('no_stream')).toBe(NO_STREAM);
    expect(toStreamState(0)).toBe(0n);
    expect(toStreamState(41)).toBe(41n);
    expect(toStreamState(Number.MAX_SAFE_INTEGER)).toBe(MAX);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])('refuses %p as an expected revision', (bad) => {
    expect(() => toStreamState(bad)).toThrow(RangeError);
  });

  it('maps the server current state back, no_stream included', () => {
    expect(fromCurrentState(NO_STREAM)).toBe('no_stream');
    expect(fromCurrentState(7n)).toBe(7);
    expect(() => fromCurrentState(MAX + 1n)).toThrow(RangeError);
    expect(toRevision(0n)).toBe(0);
    expect(() => toRevision(-1n)).toThrow(RangeError);
  });

  it('turns the client conflict details into our WrongExpectedRevision', () => {
    const client = new WrongExpectedVersionError(undefined, { streamName: 'p-s', expected: 1n, current: 2n });
    const ours = toWrongExpectedRevision('s', 1, client.actualState);
    expect(ours).toBeInstanceOf(WrongExpectedRevision);
    expect(ours).toMatchObject({ stream: 's', expected: 1, actual: 2 });
    expect(toWrongExpectedRevision('s', 0, NO_STREAM)).toMatchObject({ stream: 's', expected: 0, actual: 'no_stream' });
    expect(toWrongExpectedRevision('s', 'no_stream', 0n)).toMatchObject({ expected: 'no_stream', actual: 0 });
  });
});

describe('KurrentDB mapping: global positions', () => {
  it('uses the commit position as the number, up to the largest safe integer', () => {
    expect(toGlobalPosition(0n)).toBe(0);
    expect(toGlobalPosition(123_456_789n)).toBe(123_456_789);
    expect(toGlobalPosition(MAX)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('fails clearly instead of rounding a position past 2^53', () => {
    expect(() => toGlobalPosition(MAX + 1n)).toThrow(/exceeds Number.MAX_SAFE_INTEGER/);
    expect(() => toGlobalPosition(2n ** 60n)).toThrow(RangeError);
  });

  it('fails clearly when the server sent no position', () => {
    expect(() => toGlobalPosition(undefined)).toThrow(/no log position/);
    expect(() => toGlobalPosition(2n ** 64n - 1n)).toThrow(/no log position/);
    expect(() => toGlobalPosition(-1n)).toThrow(/no log position/);
  });

  it('turns "after" into a read position: the start for 0, the event record otherwise', () => {
    expect(toReadPosition(0)).toBe(START);
    expect(toReadPosition(4242)).toEqual({ commit: 4242n, prepare: 4242n });
    expect(toReadPosition(Number.MAX_SAFE_INTEGER)).toEqual({ commit: MAX, prepare: MAX });
    expect(() => toReadPosition(-1)).toThrow(RangeError);
    expect(() => toReadPosition(0.5)).toThrow(RangeError);
  });
});

describe('KurrentDB mapping: errors and configuration', () => {
  it('classifies connection failures as unavailable, and nothing else', () => {
    expect(isUnavailable(new UnavailableError())).toBe(true);
    expect(isUnavailable(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }))).toBe(true);
    expect(isUnavailable(new WrongExpectedVersionError(undefined, { streamName: 's', expected: ANY, current: 1n }))).toBe(false);
    expect(isUnavailable(Object.assign(new Error('permission denied'), { code: 7 }))).toBe(false);
    expect(isUnavailable({ code: 14 })).toBe(false);
    expect(isUnavailable(new TypeError('bug'))).toBe(false);
  });

  it('rewrites the deprecated esdb schemes and leaves the rest alone', () => {
    expect(normalizeConnectionString('esdb://localhost:2113?tls=false')).toBe('kurrentdb://localhost:2113?tls=false');
    expect(normalizeConnectionString(' esdb+discover://a:2113,b:2113 ')).toBe('kurrentdb+discover://a:2113,b:2113');
    expect(normalizeConnectionString('kurrentdb://u:p@h:2113?tls=true')).toBe('kurrentdb://u:p@h:2113?tls=true');
    expect(normalizeConnectionString('kurrentdb://esdb://x')).toBe('kurrentdb://esdb://x');
  });
});
