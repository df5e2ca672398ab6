/**
 * What a Twilio status callback says, read from its form fields: the failures the service acts
 * on, and the receipts it records (delivered, read). The reason is built from the status and the numeric ErrorCode alone: the form's To
 * and From are phone numbers, and Twilio's texts may quote them.
 */
import type { Channel } from '../../domain/shared/types.js';

/** Twilio's final word that a message did not arrive; other statuses (queued, sent...) but the receipts below change nothing. */
const FAILED_STATUSES = new Set(['failed', 'undelivered']);

/**
 * Failures of the sender's own pace rather than of the recipient, the later counterparts of the
 * refusals retried when Twilio answers them at once (twilio-client.ts): 30001 queue overflow,
 * 30022 US A2P 10DLC rate limit, 63018 WhatsApp rate limit, 14107 SMS rate limit (past 30
 * messages between the same two numbers in 30 s, Twilio fails further ones with it for 30 s; it
 * comes here, as a failed status, not as a refusal). Retried on the same channel.
 */
const THROTTLED_CODES = new Set(['30001', '30022', '63018', '14107']);

export type TwilioFailureReport = { readonly reason: string; readonly throttled: boolean };

/** The provider name of each channel Twilio carries, as the senders record it. */
export const twilioProvider = (channel: Extract<Channel, 'SMS' | 'WHATSAPP'>): string => (channel === 'SMS' ? 'twilio-sms' : 'twilio-whatsapp');

/** Whether a failed message's error code is the sender's pace (retried on the channel), not the recipient's. */
export const isTwilioThrottleCode = (code: string | undefined): boolean => code !== undefined && THROTTLED_CODES.has(code);

/** Whether a message status is Twilio's final word that it did not arrive. */
export const isTwilioFailedStatus = (status: unknown): status is string => typeof status === 'string' && FAILED_STATUSES.has(status);

export const readTwilioStatus = (form: Readonly<Record<string, string>>, provider: string): TwilioFailureReport | undefined => {
  const status = form['MessageStatus'] ?? '';
  if (!isTwilioFailedStatus(status)) return undefined;
  const code = /^[0-9]{1,6}$/.test(form['ErrorCode'] ?? '') ? form['ErrorCode'] : undefined;
  return {
    reason: `${provider}: ${status} (${code ?? 'no error code'}), reported after Twilio accepted the message`,
    throttled: isTwilioThrottleCode(code),
  };
};

/** Twilio's receipts: `delivered` (the handset has it) and `read` (WhatsApp's read receipt). */
export const readTwilioReceipt = (form: Readonly<Record<string, string>>): { readonly read: boolean } | undefined => {
  const status = form['MessageStatus'];
  return status === 'delivered' ? { read: false } : status === 'read' ? { read: true } : undefined;
};
