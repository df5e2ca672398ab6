/**
 * The mailbox a lower-cased email address delivers to, for counting sends per recipient: a
 * `+tag` (sub-addressing, honoured by most providers) names the same mailbox, and so do Gmail's
 * dots and its googlemail.com domain. Counting per address as written let one inbox take a
 * code per spelling (`victim+1@…`, `v.ictim@gmail.com`…), up to the app's daily budget. Codes
 * still go to the address as given; only the count is per mailbox.
 */
export const mailboxOf = (address: string): string => {
  const at = address.lastIndexOf('@');
  if (at <= 0) return address;
  const domain = address.slice(at + 1);
  const tagged = address.slice(0, at);
  const local = tagged.split('+')[0] || tagged;
  const gmail = domain === 'gmail.com' || domain === 'googlemail.com';
  return gmail ? `${local.replaceAll('.', '') || local}@gmail.com` : `${local}@${domain}`;
};
