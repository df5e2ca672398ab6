import { describe, expect, it } from '@jest/globals';
import { applyPolicyPatch, defaultPolicy, type MessageTemplates, type PolicyPatch } from '../../src/domain/client-app/policy.js';

const details = (patch: object) => {
  const result = applyPolicyPatch(defaultPolicy, patch as PolicyPatch);
  return result._tag === 'Left' ? result.left.details : 'accepted';
};

describe('app policy', () => {
  it('defaults to the values the design names', () =>
    expect(defaultPolicy).toEqual({
      code_length: 6,
      code_ttl_seconds: 600,
      max_attempts: 5,
      resend_cooldown_seconds: 30,
      max_sends_per_recipient_per_hour: 5,
      channels: ['SMS', 'EMAIL', 'WHATSAPP'],
      allowed_countries: null,
      totp: { digits: 6, period: 30, algorithm: 'SHA1', window: 1 },
      issuer: null,
      allow_code_export: false,
      default_locale: 'en',
      fallback_channel: null,
      max_sends_per_app_per_day: 10_000,
      max_sends_per_number_block_per_hour: 20,
      templates: null,
    }));

  it('refuses templates without the code, in unknown keys, or under a bad locale', () => {
    const result = applyPolicyPatch(defaultPolicy, {
      templates: { es: { sms: 'Tu código' }, 'xx_YY': { sms: '{code}' }, fr: { body: '{code}' } as never },
    });
    expect(result._tag).toBe('Left');
    const fields = result._tag === 'Left' ? (result.left.details ?? []).map((d) => d.field) : [];
    expect(fields).toEqual(expect.arrayContaining(['policy.templates.es.sms', 'policy.templates.xx_YY', 'policy.templates.fr.body']));
  });

  it('bounds a template at 1,000 characters, an emoji counting as one', () => {
    const text = (characters: number) => `{code}${'\u{1F600}'.repeat(characters - 6)}`;
    expect(applyPolicyPatch(defaultPolicy, { templates: { en: { sms: text(1000) } } })._tag).toBe('Right');
    expect(applyPolicyPatch(defaultPolicy, { templates: { en: { sms: text(1001) } } })._tag).toBe('Left');
  });

  it('accepts a template override with the code placeholder and a subject without it', () =>
    expect(applyPolicyPatch(defaultPolicy, { templates: { es: { sms: 'Código {code}', email_subject: 'Tu código' } } })._tag).toBe('Right'));

  it('refuses a {name} that is no placeholder, and control characters (any in a subject; all but line breaks and tabs elsewhere)', () => {
    const fieldsOf = (templates: MessageTemplates) => {
      const result = applyPolicyPatch(defaultPolicy, { templates });
      return result._tag === 'Left' ? (result.left.details ?? []).map((d) => d.field) : [];
    };
    expect(fieldsOf({ en: { sms: 'Hi {name}, {code}' } })).toEqual(['policy.templates.en.sms']);
    expect(fieldsOf({ en: { sms: '{CODE} is {code}' } })).toEqual(['policy.templates.en.sms']);
    expect(fieldsOf({ en: { email_subject: 'Code\r\nBcc: x@y.example' } })).toEqual(['policy.templates.en.email_subject']);
    expect(fieldsOf({ en: { email_text: '{code}\u0000' } })).toEqual(['policy.templates.en.email_text']);
    expect(fieldsOf({ en: { sms: '{code} for {app}, {minutes} min ({duration})', email_text: 'Code:\t{code}\r\n\nBye', email_subject: '{app}: {code}' } })).toEqual([]);
    // Braces that name nothing are text.
    expect(fieldsOf({ en: { sms: '{code} {} { code } {1}' } })).toEqual([]);
  });

  it('checks only the texts being set: stored ones that predate the checks do not hold the rest of the policy up', () => {
    const stored = { ...defaultPolicy, templates: { en: { sms: 'Hi {name}, {code}' } } };
    expect(applyPolicyPatch(stored, { code_length: 8 })._tag).toBe('Right');
  });

  it('accepts an empty patch unchanged', () => expect(applyPolicyPatch(defaultPolicy, {})).toEqual({ _tag: 'Right', right: defaultPolicy }));

  it('merges totp field by field and leaves the base untouched', () => {
    const before = JSON.stringify(defaultPolicy);
    expect(applyPolicyPatch(defaultPolicy, { totp: { period: 60 }, issuer: 'Acme' })).toEqual({
      _tag: 'Right',
      right: { ...defaultPolicy, issuer: 'Acme', totp: { digits: 6, period: 60, algorithm: 'SHA1', window: 1 } },
    });
    expect(JSON.stringify(defaultPolicy)).toBe(before);
  });

  it.each([
    ['code_length', 4, 10],
    ['code_ttl_seconds', 30, 86_400],
    ['max_attempts', 1, 20],
    ['resend_cooldown_seconds', 0, 3_600],
    ['max_sends_per_recipient_per_hour', 1, 1_000],
  ])('bounds %s to %i..%i, integers only', (field, min, max) => {
    const bad = [{ field: `policy.${field}`, message: `must be an integer from ${min} to ${max}` }];
    expect(details({ [field]: min })).toBe('accepted');
    expect(details({ [field]: max })).toBe('accepted');
    expect(details({ [field]: min - 1 })).toEqual(bad);
    expect(details({ [field]: max + 1 })).toEqual(bad);
    expect(details({ [field]: min + 0.5 })).toEqual(bad);
  });

  it('bounds the TOTP window to 0..2', () => {
    expect(details({ totp: { window: 0 } })).toBe('accepted');
    expect(details({ totp: { window: 2 } })).toBe('accepted');
    expect(details({ totp: { window: 3 } })).toEqual([{ field: 'policy.totp.window', message: 'must be an integer from 0 to 2' }]);
  });

  it('accepts only 6 or 8 digits, 30 or 60 second periods and the three algorithms', () => {
    for (const ok of [{ digits: 8 }, { period: 60 }, { algorithm: 'SHA256' }, { algorithm: 'SHA512' }])
      expect(details({ totp: ok })).toBe('accepted');
    expect(details({ totp: { digits: 7 } })).toEqual([{ field: 'policy.totp.digits', message: 'must be 6 or 8' }]);
    expect(details({ totp: { period: 45 } })).toEqual([{ field: 'policy.totp.period', message: 'must be 30 or 60' }]);
    expect(details({ totp: { algorithm: 'MD5' } })).toEqual([{ field: 'policy.totp.algorithm', message: 'must be SHA1, SHA256 or SHA512' }]);
  });

  it('accepts only known channels', () => {
    expect(details({ channels: ['EMAIL'] })).toBe('accepted');
    expect(details({ channels: ['SMS', 'FAX'] })).toEqual([{ field: 'policy.channels', message: 'must list SMS, EMAIL or WHATSAPP' }]);
  });

  it('keeps each channel once, in the order first given', () =>
    expect(applyPolicyPatch(defaultPolicy, { channels: ['SMS', 'EMAIL', 'SMS', 'EMAIL'] })).toEqual({ _tag: 'Right', right: { ...defaultPolicy, channels: ['SMS', 'EMAIL'] } }));

  it('accepts a fallback channel only among the allowed channels, which delivery requires of it', () => {
    expect(details({ fallback_channel: 'SMS' })).toBe('accepted');
    expect(details({ channels: ['WHATSAPP', 'SMS'], fallback_channel: 'SMS' })).toBe('accepted');
    expect(details({ channels: ['EMAIL'], fallback_channel: null })).toBe('accepted');
    const bad = [{ field: 'policy.fallback_channel', message: 'must be one of the allowed channels, or null' }];
    expect(details({ channels: ['WHATSAPP', 'EMAIL'], fallback_channel: 'SMS' })).toEqual(bad);
    // Checked on the policy a patch leaves: narrowing channels under a set fallback is refused too.
    const withFallback = applyPolicyPatch(defaultPolicy, { fallback_channel: 'WHATSAPP' });
    if (withFallback._tag === 'Left') throw new Error('fallback refused');
    expect(applyPolicyPatch(withFallback.right, { channels: ['SMS'] })).toMatchObject({ _tag: 'Left', left: { code: 'INVALID_POLICY', details: bad } });
  });

  it('accepts calling codes (or null) as allowed countries', () => {
    expect(details({ allowed_countries: ['1', '34', '1268'] })).toBe('accepted');
    expect(details({ allowed_countries: null })).toBe('accepted');
    for (const bad of [['034'], ['+34'], ['ES'], ['12345'], ['']])
      expect(details({ allowed_countries: bad })).toEqual([
        { field: 'policy.allowed_countries', message: 'must be calling codes such as "34" or "1"' },
      ]);
  });

  it('names every bad field at once, in a stable order', () =>
    expect(details({ code_length: 11, resend_cooldown_seconds: -1, channels: ['FAX'], totp: { digits: 7, period: 10, algorithm: 'MD5', window: -1 } }))
      .toEqual([
        { field: 'policy.code_length', message: 'must be an integer from 4 to 10' },
        { field: 'policy.resend_cooldown_seconds', message: 'must be an integer from 0 to 3600' },
        { field: 'policy.totp.window', message: 'must be an integer from 0 to 2' },
        { field: 'policy.totp.digits', message: 'must be 6 or 8' },
        { field: 'policy.totp.period', message: 'must be 30 or 60' },
        { field: 'policy.totp.algorithm', message: 'must be SHA1, SHA256 or SHA512' },
        { field: 'policy.channels', message: 'must list SMS, EMAIL or WHATSAPP' },
      ]));

  it('rejects with the INVALID_POLICY code', () =>
    expect(applyPolicyPatch(defaultPolicy, { max_attempts: 0 })).toMatchObject({ _tag: 'Left', left: { code: 'INVALID_POLICY' } }));
});
