/** Masked forms of destinations, safe to show and to log. */
export const maskPhone = (e164: string): string => {
  const digits = e164.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  const country = digits.length > 10 ? digits.slice(0, digits.length - 9) : digits.slice(0, 1);
  return `+${country} *** *** ${digits.slice(-2)}`;
};

export const maskEmail = (email: string): string => {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***@${email.slice(at + 1)}`;
};
