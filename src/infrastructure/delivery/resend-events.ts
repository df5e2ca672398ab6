/**
 * Resend's webhooks: what became of an email Resend accepted. Each email the service sends
 * carries two tags naming its challenge and send (the same on every attempt at the send, as the
 * idempotency key requires of the whole request); Resend returns them in its events. The
 * service acts on the three that say the email will not arrive: email.bounced, email.failed and
 * email.suppressed. Reasons are built from Resend's bounce and suppression types only: its
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

/**
 * The failure a verified event reports, for the challenge and send its tags name; undefined for
 * every other event (sent, delivered, delayed, opened...) and for emails the service did not
 * send (no tags of its own: another sender on the same Resend account).
 */
export const readResendEvent = (event: unknown): ResendFailureReport | undefined => {
  if (typeof event !== 'object' || event === null) return undefined;
  const { type, data } = event as { type?: unknown; data?: unknown };
  if (typeof type !== 'string' || !FAILURES.has(type) || typeof data !== 'object' || data === null) return undefined;
  const { tags, bounce, suppressed } = data as { tags?: unknown; bounce?: unknown; suppressed?: unknown };
  if (typeof tags !== 'object' || tags === null) return undefined;
  const challenge = (tags as Record<string, unknown>)[RESEND_TAG_CHALLENGE];
  const send = (tags as Record<string, unknown>)[RESEND_TAG_SEND];
  if (typeof challenge !== 'string' || !UUID.test(challenge) || typeof send !== 'string' || !/^[1-9][0-9]{0,5}$/.test(send)) return undefined;
  const status = type.slice('email.'.length);
  const detail =
    type === 'email.bounced'
      ? [word((bounce as { type?: unknown } | null)?.type), word((bounce as { subType?: unknown } | null)?.subType)]
      : type === 'email.suppressed'
        ? [word((suppressed as { type?: unknown } | null)?.type)]
        : [];
  const known = detail.filter((part) => part !== undefined);
  return {
    challenge_id: challenge,
    send: Number(send),
    reason: `resend: ${status}${known.length > 0 ? ` (${known.join(', ')})` : ''}, reported after Resend accepted the email`,
  };
};
