/**
 * Calling codes are prefix-free: only 1 and 7 have one digit, these have two, all others three.
 * Knowing that, a hint can name the country without showing any digit of the national number.
 */
const SHORT_CALLING_CODES = new Set([
  '1', '7', '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
  '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86',
  '90', '91', '92', '93', '94', '95', '98',
]);

/** Masked forms of destinations, safe to show and to log. */
export const maskPhone = (e164: string): string => {
  const digits = e164.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  const country = [1, 2].map((n) => digits.slice(0, n)).find((c) => SHORT_CALLING_CODES.has(c)) ?? digits.slice(0, 3);
  return `+${country} *** *** ${digits.slice(-2)}`;
};

export const maskEmail = (email: string): string => {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***@${email.slice(at + 1)}`;
};
