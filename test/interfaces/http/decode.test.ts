import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type * as t from 'io-ts';
import type { PolicyPatch } from '../../../src/domain/client-app/policy.js';
import * as codecs from '../../../src/interfaces/http/codecs.js';
import { decodeOrThrow, ValidationFailed } from '../../../src/interfaces/http/decode.js';
import type { FieldError } from '../../../src/interfaces/http/errors.js';

const failure = (codec: t.Mixed, value: unknown): readonly FieldError[] => {
  try {
    decodeOrThrow(codec, value);
  } catch (error) {
    if (error instanceof ValidationFailed) return error.extra.details ?? [];
    throw error;
  }
  throw new Error('decoded');
};

const fields = (codec: t.Mixed, value: unknown) => failure(codec, value).map((d) => d.field);
const detail = (codec: t.Mixed, value: unknown, field: string) =>
  failure(codec, value).find((d) => d.field === field)?.message;

const uuid = '0b7c6f0e-3f1a-4c2b-9d4e-5a6b7c8d9e0f';

describe('decodeOrThrow', () => {
  it('names every missing required field, and the body when it is not an object', () => {
    expect(failure(codecs.registerBody, {})).toEqual([
      { field: 'email', message: 'is required' },
      { field: 'username', message: 'is required' },
      { field: 'password', message: 'is required' },
    ]);
    for (const body of [[], null, 'x', 42, undefined]) expect(fields(codecs.registerBody, body)).toEqual(['body']);
  });

  it('names nested policy fields by dotted path, including unknown keys', () => {
    const body = {
      name: 'Shop',
      policy: { code_length: 3, totp: { digits: 7, extra: 1 }, channels: ['SMS', 'FAX'], allowed_countries: ['34', 'x'], nope: true },
    };
    expect(Object.fromEntries(failure(codecs.appCreateBody, body).map((d) => [d.field, d.message]))).toEqual({
      'policy.code_length': 'must be an integer from 4 to 10',
      'policy.totp.digits': 'must be 6 or 8',
      'policy.totp.extra': 'is not a known field',
      'policy.channels.1': 'must be one of SMS, EMAIL, WHATSAPP',
      'policy.allowed_countries.1': 'must be a country calling code such as "34" or "1"',
      'policy.nope': 'is not a known field',
    });
  });

  it('decodes a full policy patch into the domain PolicyPatch type', () => {
    const decoded = decodeOrThrow(codecs.appCreateBody, {
      name: 'Shop',
      policy: {
        code_length: 8,
        code_ttl_seconds: 300,
        max_attempts: 3,
        resend_cooldown_seconds: 0,
        max_sends_per_recipient_per_hour: 10,
        channels: ['EMAIL'],
        allowed_countries: null,
        totp: { digits: 8, period: 60, algorithm: 'SHA256', window: 0 },
        issuer: null,
        allow_code_export: true,
      },
    });
    const patch: PolicyPatch | undefined = decoded.policy;
    expect(patch?.totp).toEqual({ digits: 8, period: 60, algorithm: 'SHA256', window: 0 });
    expect(patch?.allowed_countries).toBeNull();
  });

  it('counts lengths in characters, as the messages and the OpenAPI document do: an emoji is one, not two UTF-16 units', () => {
    const emoji = '\u{1F600}';
    expect(fields(codecs.registerBody, { email: 'a@b.co', username: 'alice', password: emoji.repeat(4) })).toEqual(['password']);
    expect(() => decodeOrThrow(codecs.registerBody, { email: 'a@b.co', username: 'alice', password: emoji.repeat(7) + 'x' })).not.toThrow();
    expect(() => decodeOrThrow(codecs.registerBody, { email: 'a@b.co', username: 'alice', password: emoji.repeat(256) })).not.toThrow();
    expect(fields(codecs.registerBody, { email: 'a@b.co', username: 'alice', password: emoji.repeat(257) })).toEqual(['password']);
    expect(() => decodeOrThrow(codecs.appCreateBody, { name: emoji.repeat(100) })).not.toThrow();
    expect(fields(codecs.appCreateBody, { name: emoji.repeat(101) })).toEqual(['name']);
    expect(fields(codecs.appCreateBody, { name: `${emoji.repeat(99)}ab` })).toEqual(['name']);
    // Sign-in still takes a password registration took when it counted UTF-16 units.
    expect(() => decodeOrThrow(codecs.loginBody, { username: 'alice', password: emoji.repeat(4) })).not.toThrow();
    expect(() => decodeOrThrow(codecs.loginBody, { username: 'alice', password: emoji.repeat(256) })).not.toThrow();
    expect(fields(codecs.loginBody, { username: 'alice', password: emoji.repeat(3) })).toEqual(['password']);
    expect(fields(codecs.loginBody, { username: 'alice', password: 'short' })).toEqual(['password']);
  });

  it('drops unknown top-level fields', () => {
    expect(decodeOrThrow(codecs.otpRecoveryBody, { username: 'alice', admin: true })).toEqual({ username: 'alice' });
  });

  it('checks the bounded strings', () => {
    expect(detail(codecs.registerBody, { email: 'a@b.co', username: 'al ice', password: 'x'.repeat(8) }, 'username')).toMatch(/letters, digits/);
    expect(fields(codecs.registerBody, { email: 'a@b.co', username: 'u'.repeat(129), password: 'x'.repeat(8) })).toEqual(['username']);
    expect(fields(codecs.registerBody, { email: 'nope', username: 'alice', password: 'short' })).toEqual(['email', 'password']);
    expect(fields(codecs.registerBody, { email: `${'e'.repeat(250)}@b.co`, username: 'alice', password: 'x'.repeat(257) })).toEqual([
      'email',
      'password',
    ]);
    expect(fields(codecs.appCreateBody, { name: '   ' })).toEqual(['name']);
    expect(fields(codecs.appCreateBody, { name: 'a\u0000b' })).toEqual(['name']);
    // An app's name goes out in every message: the spaces a form left around it do not.
    expect(decodeOrThrow(codecs.appCreateBody, { name: '  Acme Shop\u00a0 ' }).name).toBe('Acme Shop');
    expect(decodeOrThrow(codecs.appUpdateBody, { name: ' Acme ' }).name).toBe('Acme');
    // Checked as sent, as the OpenAPI rule says: a control character or 101 characters with the spaces are refused.
    expect(fields(codecs.appUpdateBody, { name: '\tAcme ' })).toEqual(['name']);
    expect(fields(codecs.appCreateBody, { name: ` ${'n'.repeat(99)} ` })).toEqual(['name']);
    expect(fields(codecs.appCreateBody, { name: 42 })).toEqual(['name']);
    expect(fields(codecs.otpRegisterBody, { username: 'a', otp_method: 'TOTP', secret: 'JBSWY3DPEHPK3PX1' })).toEqual(['secret']);
    expect(decodeOrThrow(codecs.otpRegisterBody, { username: 'a', otp_method: 'TOTP', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }).secret).toBe(
      'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    );
    expect(fields(codecs.codeSendBody, { username: 'a', channel: 'FAX', locale: 'english' })).toEqual(['channel', 'locale']);
    expect(decodeOrThrow(codecs.codeSendBody, { username: 'a', channel: 'SMS', locale: 'pt-BR' }).locale).toBe('pt-BR');
    // A send's locale as Accept-Language gives it, canonicalised; a policy's stays strict.
    // Case only: deprecated codes stay as sent (an app's texts may be kept under iw or tl), extensions go.
    for (const [given, canonical] of [['en-us', 'en-US'], ['EN', 'en'], ['es-419', 'es-419'], ['zh-hant-tw', 'zh-Hant-TW'], ['ZH-HANS', 'zh-Hans'], ['pt-br', 'pt-BR'], ['iw', 'iw'], ['tl', 'tl'], ['en-UK', 'en-UK'], ['de-DE-u-co-phonebk', 'de-DE'], ['sl-rozaj', 'sl-rozaj']])
      expect(decodeOrThrow(codecs.codeSendByChannelBody, { username: 'a', locale: given }).locale).toBe(canonical);
    for (const locale of ['english', 'en-a', 'en_US', 'e', 'en-', '-en', 'en-US,en;q=0.9', 'x'.repeat(40), 'en-abcdefghi'])
      expect(fields(codecs.codeSendBody, { username: 'a', channel: 'SMS', locale })).toEqual(['locale']);
    expect(fields(codecs.appCreateBody, { name: 'a', policy: { default_locale: 'en-us' } })).toEqual(['policy.default_locale']);
    expect(fields(codecs.challengeParams, { challenge_id: 'not-a-uuid' })).toEqual(['challenge_id']);
  });

  it('accepts sent codes, TOTP codes and recovery codes as otp, nothing else', () => {
    for (const otp of ['0123', '123456', '12345678', '0123456789', 'abcd-12ef', 'Abcd-12ef', 'ABCD-1234'])
      expect(decodeOrThrow(codecs.codeVerifyBody, { otp, challenge_id: uuid }).otp).toBe(otp);
    for (const otp of ['123', '12345678901', '1 2 3', '12  345', '12\t345', '12\u00a0345', '12-345', '1234 5678 901', ' ', 'abcd1234', 'abcd_1234', 'abcd-123é', 123456, ''])
      expect(fields(codecs.codeVerifyBody, { otp, username: 'alice' })).toEqual(['otp']);
  });

  it('takes a code grouped by single spaces, as apps show it, and hands it on without them', () => {
    const cases: [string, string][] = [
      ['939 548', '939548'],
      ['12 345', '12345'],
      ['1234 5678', '12345678'],
      ['1 2 3 4 5 6 7 8 9 0', '1234567890'],
      [' 939548 ', '939548'],
      ['  939 548', '939548'],
    ];
    for (const [otp, handed] of cases) {
      expect(decodeOrThrow(codecs.codeVerifyBody, { otp, challenge_id: uuid }).otp).toBe(handed);
      expect(decodeOrThrow(codecs.otpEnableBody, { otp, username: 'alice' }).otp).toBe(handed);
    }
    // What the codec hands on is what it takes as already decoded: no spaces.
    expect(codecs.otp.is('939548')).toBe(true);
    expect(codecs.otp.is('939 548')).toBe(false);
  });

  it('takes a UUID in any case and hands it on in lower case, wherever a request names one', () => {
    const upper = uuid.toUpperCase();
    const mixed = '0B7c6F0e-3F1a-4C2b-9D4e-5A6b7C8d9E0f';
    for (const id of [upper, mixed, uuid]) {
      expect(decodeOrThrow(codecs.uuid, id)).toBe(uuid);
      expect(decodeOrThrow(codecs.appIdParams, { id }).id).toBe(uuid);
      expect(decodeOrThrow(codecs.challengeParams, { challenge_id: id }).challenge_id).toBe(uuid);
      expect(decodeOrThrow(codecs.appScopeQuery, { app_id: id }).app_id).toBe(uuid);
      expect(decodeOrThrow(codecs.otpStatusQuery, { username: 'a', app_id: id }).app_id).toBe(uuid);
      expect(decodeOrThrow(codecs.otpRegisterBody, { username: 'a', otp_method: 'TOTP', app_id: id }).app_id).toBe(uuid);
      expect(decodeOrThrow(codecs.codeSendBody, { username: 'a', channel: 'SMS', app_id: id }).app_id).toBe(uuid);
      const verify = decodeOrThrow(codecs.codeVerifyBody, { otp: '123456', challenge_id: id, app_id: id });
      expect([verify.challenge_id, verify.app_id]).toEqual([uuid, uuid]);
      expect(decodeOrThrow(codecs.twilioStatusQuery, { challenge_id: id, send: '1', attempt: '1', channel: 'SMS' }).challenge_id).toBe(uuid);
    }
    expect(codecs.uuid.is(uuid)).toBe(true);
    expect(codecs.uuid.is(upper)).toBe(false);
  });

  it('requires a challenge_id or a username to verify, and a username or an email to log in', () => {
    expect(failure(codecs.codeVerifyBody, { otp: '123456' })).toEqual([
      { field: 'challenge_id', message: 'either challenge_id or username is required' },
    ]);
    expect(fields(codecs.codeVerifyBody, { otp: 'x' })).toEqual(['otp', 'challenge_id']);
    expect(fields(codecs.loginBody, { password: 'x'.repeat(8) })).toEqual(['username']);
    expect(decodeOrThrow(codecs.loginBody, { username: 'alice@example.com', password: 'x'.repeat(8) }).username).toBe('alice@example.com');
    expect(decodeOrThrow(codecs.loginBody, { email: 'alice@example.com', password: 'x'.repeat(8) }).email).toBe('alice@example.com');
  });

  it('never echoes a rejected value in a message', () => {
    const secret = 'S3cret-Value-That-Must-Not-Leak';
    const details = failure(codecs.registerBody, { email: secret, username: secret, password: 7 });
    expect(JSON.stringify(details)).not.toContain(secret);
  });

  it('bounds the number of field errors', () => {
    const policy = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    expect(failure(codecs.appCreateBody, { name: 'x', policy }).length).toBeLessThanOrEqual(20);
  });
});

// ---------------------------------------------------------------- property-based
const hugeString = fc.nat({ max: 100_000 }).chain((n) => fc.constantFrom('a'.repeat(n), '9'.repeat(n), `${'a'.repeat(n)}@x.io`));
const plausibleString = fc.constantFrom('alice', 'a@b.co', '123456', 'abcd-1234', uuid, 'SMS', 'TOTP', 'pt-BR', 'JBSWY3DPEHPK3PXP', '+34600000000', '');
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.anything(),
  hugeString,
  plausibleString,
  fc.constant(null),
  fc.array(fc.jsonValue(), { maxLength: 5 }),
  fc.integer(),
  fc.double(),
);
const policyKeys = ['code_length', 'code_ttl_seconds', 'max_attempts', 'channels', 'allowed_countries', 'totp', 'issuer', 'allow_code_export'];
const policyValue = fc.oneof(
  value,
  fc.dictionary(fc.oneof(fc.constantFrom(...policyKeys), fc.string()), fc.oneof(value, fc.dictionary(fc.constantFrom('digits', 'period', 'algorithm', 'window', 'x'), value))),
);
const topKeys = ['email', 'username', 'password', 'current_password', 'new_password', 'name', 'otp_method', 'otp', 'destination', 'secret', 'channel', 'to', 'locale', 'app_id', 'challenge_id', 'id', 'send', 'attempt'];
const bodyLike = fc.oneof(
  value,
  fc.dictionary(fc.oneof(fc.constantFrom(...topKeys), fc.string()), value, { maxKeys: 8 }),
  fc.record(
    Object.fromEntries([...topKeys.map((key) => [key, fc.oneof(value, plausibleString)]), ['policy', policyValue]]),
    { requiredKeys: [] },
  ),
);

describe.each(Object.entries(codecs.requestCodecs))('%s on arbitrary input', (_name, codec) => {
  it('decodes or fails with details naming fields, never anything else', () => {
    fc.assert(
      fc.property(bodyLike, (input) => {
        try {
          decodeOrThrow(codec as t.Mixed, input);
          return true;
        } catch (error) {
          if (!(error instanceof ValidationFailed)) throw error;
          const details = error.extra.details ?? [];
          expect(error.status).toBe(400);
          expect(details.length).toBeGreaterThan(0);
          for (const { field, message } of details) {
            // Unknown top-level fields are dropped, so only known fields (or the body) are named.
            expect([...topKeys, 'policy', 'body']).toContain(field.split('.')[0]);
            expect(typeof message).toBe('string');
            expect(message.length).toBeGreaterThan(0);
            expect(message.length).toBeLessThan(200);
          }
          return true;
        }
      }),
      { numRuns: 300 },
    );
  });
});
