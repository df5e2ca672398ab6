import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { DestinationParser } from '../../application/ports.js';
import { maskEmail, maskPhone } from '../../domain/shared/hints.js';

// Deliberately strict: one @, no spaces or quotes, a dotted domain with a 2+ letter TLD.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$/;

/**
 * Phones must be valid, mobile-capable numbers in international form (E.164 after
 * normalisation); the country calling code feeds the app's country allow-list.
 */
export const parseDestination: DestinationParser = (channel, raw) => {
  const value = raw.trim();
  if (channel === 'EMAIL') {
    if (value.length > 254 || !EMAIL.test(value)) return null;
    const normalized = value.toLowerCase();
    return { normalized, country_calling_code: null, hint: maskEmail(normalized) };
  }
  if (!value.startsWith('+') || value.length > 32) return null;
  const phone = parsePhoneNumberFromString(value);
  if (!phone || !phone.isValid()) return null;
  const type = phone.getType();
  if (type !== undefined && !['MOBILE', 'FIXED_LINE_OR_MOBILE', 'PERSONAL_NUMBER'].includes(type)) return null;
  return { normalized: phone.number, country_calling_code: phone.countryCallingCode, hint: maskPhone(phone.number) };
};
