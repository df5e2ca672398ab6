import { describe, expect, it } from '@jest/globals';
import * as t from 'io-ts';
import { strictObject } from '../../../src/infrastructure/event-codecs/codec-kit.js';
import { decodeEventData, decodeTolerantly, eventCodecs, isStoredEventType, readEventData } from '../../../src/infrastructure/event-codecs/codecs.js';
import { minimalSamples, policy, sampleEvents, samples } from './samples.js';

const issuesOf = (type: Parameters<typeof decodeEventData>[0], data: unknown) => {
  const result = decodeEventData(type, data);
  if (result._tag === 'Right') throw new Error('expected a decoding failure');
  return result.left;
};
const pathsOf = (type: Parameters<typeof decodeEventData>[0], data: unknown) => issuesOf(type, data).map((issue) => issue.path);

describe('event data codecs', () => {
  it('have exactly one codec per sample type', () => {
    expect(Object.keys(eventCodecs).sort()).toEqual(Object.keys(samples).sort());
  });

  it.each(sampleEvents({ ...samples }).concat(sampleEvents(minimalSamples)))('decode a valid $type', ({ type, data }) => {
    expect(isStoredEventType(type)).toBe(true);
    if (!isStoredEventType(type)) return;
    expect(decodeEventData(type, JSON.parse(JSON.stringify(data)))).toEqual({ _tag: 'Right', right: data });
  });

  it('names missing and mistyped fields by path', () => {
    const { name: _name, ...withoutName } = samples.AppRegistered;
    expect(pathsOf('AppRegistered', { ...withoutName, owner_id: 7 }).sort()).toEqual(['data.name', 'data.owner_id']);
  });

  it('names nested fields, array items and nullable unions without member indices', () => {
    const badPolicy = { ...policy, totp: { ...policy.totp, digits: 7 }, channels: ['SMS', 'PIGEON'], allowed_countries: 'all' };
    expect(pathsOf('AppPolicyChanged', { policy: badPolicy, at: samples.AppPolicyChanged.at }).sort()).toEqual([
      'data.policy.allowed_countries',
      'data.policy.channels[1]',
      'data.policy.totp.digits',
    ]);
    expect(pathsOf('ChallengeIssued', { ...samples.ChallengeIssued, channel: 'FAX' })).toEqual(['data.channel']);
    expect(pathsOf('RecoveryCodesIssued', { ...samples.RecoveryCodesIssued, code_hashes: ['aa', 3] })).toEqual(['data.code_hashes[1]']);
  });

  it('checks optional fields when present, and template texts by locale', () => {
    expect(pathsOf('EnrollmentStarted', { ...samples.EnrollmentStarted, secret: { key_id: 'k', iv: 'x', tag: 'y' } })).toEqual([
      'data.secret.ciphertext',
    ]);
    expect(decodeEventData('ApiKeyRevoked', { ...samples.ApiKeyRevoked, until: samples.ApiKeyRevoked.at })._tag).toBe('Right');
    expect(pathsOf('ApiKeyRevoked', { ...samples.ApiKeyRevoked, until: 'soon' })).toEqual(['data.until']);
    const templates = { es: { sms: 'ok {code}', fax: 'no' } };
    expect(pathsOf('AppPolicyChanged', { policy: { ...policy, templates }, at: samples.AppRenamed.at })).toEqual(['data.policy.templates.es.fax']);
  });

  it('refuses unknown fields, so nothing unexpected (a plaintext code) reaches the log', () => {
    expect(issuesOf('ChallengeResent', { ...samples.ChallengeResent, code: '492817' })).toEqual([{ path: 'data.code', expected: 'unknown field' }]);
  });

  it('refuses fractional integers, unparseable instants and non-objects', () => {
    expect(pathsOf('RecoveryCodeUsed', { index: 1.5, at: '2025-03-03T10:00:00Z' })).toEqual(['data.index']);
    expect(pathsOf('LoginFailed', { at: 'yesterday' })).toEqual(['data.at']);
    expect(pathsOf('LoginFailed', { at: '2025-13-45T99:00:00Z' })).toEqual(['data.at']);
    expect(pathsOf('LoginFailed', { at: 1741000000 })).toEqual(['data.at']);
    expect(pathsOf('LoginFailed', null)).toEqual(['data']);
    expect(pathsOf('RecoveryCodesIssued', [])).toEqual(['data']);
  });

  it('says what was expected without quoting the value', () => {
    const issues = issuesOf('AccountRegistered', { ...samples.AccountRegistered, password_hash: { leaked: 'hunter2' } });
    expect(issues).toEqual([{ path: 'data.password_hash', expected: 'string' }]);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });

  it('knows nothing of unknown types, including inherited property names', () => {
    expect(isStoredEventType('SomethingHappened')).toBe(false);
    expect(isStoredEventType('toString')).toBe(false);
    expect(isStoredEventType('__proto__')).toBe(false);
  });
});

describe('readEventData (the tolerant reader)', () => {
  it.each(sampleEvents({ ...samples }).concat(sampleEvents(minimalSamples)))('reads a valid $type as decodeEventData does, ignoring nothing', ({ type, data }) => {
    if (!isStoredEventType(type)) throw new Error(`not a stored type: ${type}`);
    expect(readEventData(type, JSON.parse(JSON.stringify(data)))).toEqual({ _tag: 'Right', right: { data, ignored: [] } });
  });

  it('leaves out fields a newer build added, at any depth, and names them', () => {
    const stored = {
      ...samples.EnrollmentStarted,
      secret: { ...samples.EnrollmentStarted.secret, kms: 'aws' },
      device_label: 'work phone',
    };
    const before = JSON.stringify(stored);
    expect(readEventData('EnrollmentStarted', stored)).toEqual({
      _tag: 'Right',
      right: { data: samples.EnrollmentStarted, ignored: ['data.secret.kms', 'data.device_label'] },
    });
    expect(JSON.stringify(stored)).toBe(before); // the stored object is not changed

    const policy = { ...samples.AppRegistered.policy, totp: { ...samples.AppRegistered.policy.totp, skew_seconds: 5 }, templates: { es: { sms: 'x {code}', voice: 'y' } } };
    const read = readEventData('AppRegistered', { ...samples.AppRegistered, policy });
    expect(read).toEqual({
      _tag: 'Right',
      right: {
        data: { ...samples.AppRegistered, policy: { ...samples.AppRegistered.policy, templates: { es: { sms: 'x {code}' } } } },
        ignored: ['data.policy.totp.skew_seconds', 'data.policy.templates.*.voice'],
      },
    });
  });

  it('names a field inside records and arrays once, whatever the key or index', () => {
    const codec = strictObject('Sample', { items: t.array(strictObject('Item', { n: t.number })), texts: t.record(t.string, strictObject('Text', { s: t.string })) });
    const stored = { items: [{ n: 1, extra: 'a' }, { n: 2, extra: 'b' }], texts: { es: { s: 'x', extra: 1 }, en: { s: 'y', extra: 2 } } };
    expect(decodeTolerantly(codec, stored)).toEqual({
      _tag: 'Right',
      right: { data: { items: [{ n: 1 }, { n: 2 }], texts: { es: { s: 'x' }, en: { s: 'y' } } }, ignored: ['data.items[*].extra', 'data.texts.*.extra'] },
    });
  });

  it('refuses an unknown field inside a union, where one member may know what another does not', () => {
    const codec = strictObject('Holder', { value: t.union([strictObject('A', {}, { a: t.string }), strictObject('B', {}, { b: t.string })]) });
    // Member A calls `b` unknown and member B knows it: leaving out what A does not know would lose `b`.
    expect(decodeTolerantly(codec, { value: { b: 'kept', c: 'new' } })._tag).toBe('Left');
    expect(decodeTolerantly(codec, { value: { b: 'kept' } })).toEqual({ _tag: 'Right', right: { data: { value: { b: 'kept' } }, ignored: [] } });
  });

  it('still refuses a missing or mistyped known field, listing the unknown ones beside it', () => {
    const { at: _at, ...withoutAt } = samples.ChallengeResent;
    expect(readEventData('ChallengeResent', { ...withoutAt, code: '492817' })).toEqual({
      _tag: 'Left',
      left: [
        { path: 'data.at', expected: 'ISO-8601 instant' },
        { path: 'data.code', expected: 'unknown field' },
      ],
    });
    expect(readEventData('LoginFailed', 'not an object')._tag).toBe('Left');
    expect(readEventData('LoginFailed', null)._tag).toBe('Left');
  });
});
