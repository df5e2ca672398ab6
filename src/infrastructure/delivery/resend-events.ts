/**
 * Resend's webhooks: what became of an email Resend accepted. Each email the service sends
 * carries two tags naming its challenge and send (the same on every attempt at the send, as the
 * idempotency key requires of the whole request); Resend returns them in its events. The
 * service acts on the three that say the email will not arrive: email.bounced, email.failed and
 * email.suppressed, records email.delivered (the receiving server took it), and counts
 * email.complained (the recipient marked it as spam: a code they did not ask for). Reasons are built from Resend's bounce and suppression types only: its
 * texts may quote the address. The signature is checked first (resend-signature.ts).
 */
import type { OutgoingMessage } from '../../application/ports.js';

/** The provider name of email through Resend, as the sender records it. */
export const RESEND_PROVIDER = 'resend';

/** The tags that name the email's challenge and send (Resend: ASCII letters, digits, _ and -, at most 256). */
export const RESEND_TAG_CHALLENGE = 'otp_challenge_id';
export const RESEND_TAG_SEND = 'otp_send';

export const resendTagsFor = (message: Pick<OutgoingMessage, 'challenge_id' | 'send'>): { name: string; value: string }[] => [
  { name: RESEND_TAG_CHALLENGE, value: message.challenge_id },
  { name: RESEND_TAG_SEND, value: String(message.send) },
];

/** Resend's events that say the email will not arrive. */
const FAILURES = new Set(['email.bounced', 'email.failed', 'email.suppressed']);

/** A word from Resend's own vocabulary (Permanent, General, MailboxFull, Bounce...), never free text. */
const word = (value: unknown): string | undefined => (typeof value === 'string' && /^[A-Za-z_]{1,40}$/.test(value) ? value : undefined);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type ResendFailureReport = { readonly challenge_id: string; readonly send: number; readonly reason: string };
export type ResendReceipt = { readonly challenge_id: string; readonly send: number };

/**
 * The email's tags by name. Resend's SDK types and event examples write them as an object
 * ({name: value}), its page on webhook body parameters as an array of {name, value}: both are
 * taken. In an array, a name given twice with different values names nothing (neither is trusted).
 */
const tagValues = (tags: unknown): ReadonlyMap<string, unknown> | undefined => {
  if (typeof tags !== 'object' || tags === null) return undefined;
  if (!Array.isArray(tags)) return new Map(Object.entries(tags));
  const values = new Map<string, unknown>();
  const conflicting = new Set<string>();
  for (const tag of tags as unknown[]) {
    const { name, value } = typeof tag === 'object' && tag !== null ? (tag as { name?: unknown; value?: unknown }) : {};
    if (typeof name !== 'string') continue;
    if (values.has(name) && values.get(name) !== value) conflicting.add(name);
    values.set(name, value);
  }
  for (const name of conflicting) values.delete(name);
  return values;
};

/** An event's type and data, and the challenge and send its tags name; undefined for an email the service did not send (no tags of its own: another sender on the same Resend account). */
const tagged = (event: unknown): { type: string; data: Record<string, unknown>; challenge_id: string; send: number } | undefined => {
  if (typeof event !== 'object' || event === null) return undefined;
  const { type, data } = event as { type?: unknown; data?: unknown };
  if (typeof type !== 'string' || typeof data !== 'object' || data === null) return undefined;
  const tags = tagValues((data as { tags?: unknown }).tags);
  if (tags === undefined) return undefined;
  const challenge = tags.get(RESEND_TAG_CHALLENGE);
  const send = tags.get(RESEND_TAG_SEND);
  if (typeof challenge !== 'string' || !UUID.test(challenge) || typeof send !== 'string' || !/^[1-9][0-9]{0,5}$/.test(send)) return undefined;
  return { type, data: data as Record<string, unknown>, challenge_id: challenge, send: Number(send) };
};

/**
 * The failure a verified event reports, for the challenge and send its tags name; undefined for
 * every other event (sent, delivered, delayed, opened...) and for emails the service did not
 * send.
 */
export const readResendEvent = (event: unknown): ResendFailureReport | undefined => {
  const email = tagged(event);
  if (email === undefined || !FAILURES.has(email.type)) return undefined;
  const { type, data, challenge_id, send } = email;
  const { bounce, suppressed } = data as { bounce?: unknown; suppressed?: unknown };
  const status = type.slice('email.'.length);
  const detail =
    type === 'email.bounced'
      ? [word((bounce as { type?: unknown } | null)?.type), word((bounce as { subType?: unknown } | null)?.subType)]
      : type === 'email.suppressed'
        ? [word((suppressed as { type?: unknown } | null)?.type)]
        : [];
  const known = detail.filter((part) => part !== undefined);
  return { challenge_id, send, reason: `resend: ${status}${known.length > 0 ? ` (${known.join(', ')})` : ''}, reported after Resend accepted the email` };
};

/**
 * The receipt a verified email.delivered event gives (the recipient's server accepted the
 * email), for the challenge and send its tags name. Opens are not taken: they need Resend's open
 * tracking, a pixel in the email, which a code's email should not carry.
 */
export const readResendReceipt = (event: unknown): ResendReceipt | undefined => {
  const email = tagged(event);
  return email?.type === 'email.delivered' ? { challenge_id: email.challenge_id, send: email.send } : undefined;
};

/**
 * A verified email.complained event: the recipient marked the email as spam, most often a code
 * they did not ask for (someone else typing their address), and something Resend and the
 * receiving providers weigh against the sending domain. Counted for the operator; the
 * challenge is not changed (Resend suppresses the address for later emails itself, which the
 * service hears as email.suppressed on the next send).
 */
export const readResendComplaint = (event: unknown): ResendReceipt | undefined => {
  const email = tagged(event);
  return email?.type === 'email.complained' ? { challenge_id: email.challenge_id, send: email.send } : undefined;
};
