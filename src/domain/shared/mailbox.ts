/**
 * The mailbox a lower-cased email address delivers to, for counting sends per recipient. Counting
 * per address as written let one inbox take a code per spelling (`victim+1@…`,
 * `v.ictim@gmail.com`…), up to the app's daily budget. What names the same mailbox:
 * - a `+tag` (sub-addressing, honoured by most providers);
 * - Gmail's dots, and its googlemail.com domain;
 * - the domains one provider gives every account under one name: Apple's icloud.com, me.com and
 *   mac.com; Proton's protonmail.com, protonmail.ch, proton.me and pm.me;
 * - Fastmail's subdomain addressing: `anything@ada.fastmail.com` is `ada@fastmail.com`.
 * Codes still go to the address as given; only the count is per mailbox. Two addresses taken as
 * one mailbox that are not would only share a cap.
 */
const SAME_ACCOUNT: Readonly<Record<string, string>> = {
  'googlemail.com': 'gmail.com',
  'me.com': 'icloud.com',
  'mac.com': 'icloud.com',
  'protonmail.ch': 'protonmail.com',
  'proton.me': 'protonmail.com',
  'pm.me': 'protonmail.com',
};

const FASTMAIL_SUBDOMAIN = /^([a-z0-9][a-z0-9_-]*)\.fastmail\.com$/;

export const mailboxOf = (address: string): string => {
  const at = address.lastIndexOf('@');
  if (at <= 0) return address;
  const written = address.slice(at + 1);
  const tagged = address.slice(0, at);
  const subdomain = FASTMAIL_SUBDOMAIN.exec(written);
  if (subdomain !== null) return `${subdomain[1]}@fastmail.com`;
  const domain = SAME_ACCOUNT[written] ?? written;
  const local = tagged.split('+')[0] || tagged;
  return domain === 'gmail.com' ? `${local.replaceAll('.', '') || local}@gmail.com` : `${local}@${domain}`;
};
