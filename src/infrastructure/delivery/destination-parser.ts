import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { DestinationParser } from '../../application/ports.js';
import { maskEmail, maskPhone } from '../../domain/shared/hints.js';

// Deliberately strict: one @, no spaces or quotes, a dotted domain with a 2+ letter TLD.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$/;

const E164 = 'must be a phone number in E.164 form, such as +34600000000';
const refused = (why: string) => ({ refused: why });

/** What a number that cannot take a code is, in the words of the refusal. */
const NOT_MOBILE: Readonly<Record<string, string>> = {
  FIXED_LINE: 'a landline',
  TOLL_FREE: 'toll-free',
  PREMIUM_RATE: 'premium-rate',
  SHARED_COST: 'shared-cost',
  VOIP: 'a VoIP number',
  UAN: 'a universal access number',
  PAGER: 'a pager',
  VOICEMAIL: 'a voicemail access number',
};

/**
 * Phones must be valid, mobile-capable numbers in international form (E.164 after
 * normalisation), without an extension (it would be dropped); the country calling code feeds
 * the app's country allow-list. A valid number of another kind is told apart: "not in E.164
 * form" sent callers looking for a formatting mistake that was not there.
 */
export const parseDestination: DestinationParser = (channel, raw) => {
  const value = raw.trim();
  if (channel === 'EMAIL') {
    if (value.length > 254 || !EMAIL.test(value)) return refused('must be a valid email address');
    const normalized = value.toLowerCase();
    return { normalized, country_calling_code: null, hint: maskEmail(normalized) };
  }
  if (!value.startsWith('+') || value.length > 32) return refused(E164);
  const phone = parsePhoneNumberFromString(value);
  if (!phone || !phone.isValid()) return refused(E164);
  if (phone.ext !== undefined) return refused('must be a phone number without an extension');
  const type = phone.getType();
  if (type !== undefined && !['MOBILE', 'FIXED_LINE_OR_MOBILE', 'PERSONAL_NUMBER'].includes(type))
    return refused(`must be a mobile number: this one is ${NOT_MOBILE[type] ?? 'not a mobile number'}, which cannot receive codes`);
  return { normalized: phone.number, country_calling_code: phone.countryCallingCode, hint: maskPhone(phone.number) };
};
