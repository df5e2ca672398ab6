/**
 * Destinations as senders give them: phones normalised to E.164 (spaces, dashes, brackets),
 * emails in lower case; a refusal says why without repeating the value, and tells a number that
 * cannot take a code (a landline, toll-free) from one written wrong.
 */
import { describe, expect, it } from '@jest/globals';
import { parseDestination } from '../../../src/infrastructure/delivery/destination-parser.js';

const refusal = (channel: 'SMS' | 'EMAIL' | 'WHATSAPP', raw: string): string | undefined => {
  const parsed = parseDestination(channel, raw);
  return 'refused' in parsed ? parsed.refused : undefined;
};

describe('parseDestination', () => {
  it('normalises a mobile number written with spaces, dashes or brackets to E.164', () => {
    for (const raw of ['+34 600 123 456', '+34-600-123-456', ' +34 (600) 123456 '])
      expect(parseDestination('SMS', raw)).toEqual({ normalized: '+34600123456', country_calling_code: '34', hint: expect.any(String) });
  });

  it('refuses a number without + or not valid as written in E.164 terms', () => {
    for (const raw of ['34600123456', '+3400', 'not a phone']) expect(refusal('SMS', raw)).toBe('must be a phone number in E.164 form, such as +34600000000');
  });

  it('tells a valid number that cannot take a code from a malformed one, naming its kind, never its digits', () => {
    const cases: [string, string][] = [
      ['+442079460958', 'a landline'],
      ['+18005550199', 'toll-free'],
    ];
    for (const [raw, kind] of cases) {
      const why = refusal('SMS', raw);
      expect(why).toBe(`must be a mobile number: this one is ${kind}, which cannot receive codes`);
      expect(refusal('WHATSAPP', raw)).toBe(why);
      expect(why).not.toMatch(/[0-9]{3}/);
    }
  });

  it('refuses a number with an extension rather than dropping it', () => {
    expect(refusal('SMS', '+1 415 555 2671 ext 5')).toBe('must be a phone number without an extension');
    expect(parseDestination('SMS', '+1 415 555 2671')).toMatchObject({ normalized: '+14155552671' });
  });

  it('takes an email in lower case, and refuses one that is not an address', () => {
    expect(parseDestination('EMAIL', ' Ada@Example.ORG ')).toEqual({ normalized: 'ada@example.org', country_calling_code: null, hint: expect.any(String) });
    for (const raw of ['not-an-email', 'a@b', 'a b@example.org', `${'a'.repeat(65)}@example.org`]) expect(refusal('EMAIL', raw)).toBe('must be a valid email address');
  });
});
