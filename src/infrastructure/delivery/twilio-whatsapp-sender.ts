/**
 * WhatsApp through Twilio's Messages API. Business-initiated WhatsApp messages must use an
 * approved template, so with a content SID the code travels as template variable {{1}};
 * without one the rendered body is sent (fine for the sandbox and open sessions).
 */
import type { MessageSender } from '../../application/ports.js';
import { destinationHint, refusedLocally } from './provider-errors.js';
import { callTwilio, createTwilioClient, senderFields, statusCallbackFor, validityFor, type TwilioClientOptions } from './twilio-client.js';
import { twilioProvider } from './twilio-status.js';

export type TwilioWhatsappSenderOptions = TwilioClientOptions & {
  /** TWILIO_WHATSAPP_NUMBER, with or without the "whatsapp:" prefix, or a Messaging Service SID (MG...). */
  readonly from: string;
  /** Content template SID (HX...) whose variable {{1}} is the code. */
  readonly contentSid?: string;
};

const PROVIDER = twilioProvider('WHATSAPP');

/** The value without its "whatsapp:" prefixes, however many it had. */
const withoutPrefix = (value: string): string => value.trim().replace(/^(whatsapp:)+/i, '');

/** Exactly one "whatsapp:" prefix, whatever the input had. */
export const whatsappAddress = (value: string): string => `whatsapp:${withoutPrefix(value)}`;

export const createTwilioWhatsappSender = (options: TwilioWhatsappSenderOptions): MessageSender => {
  if (!options.from) throw new Error('Twilio WhatsApp: TWILIO_WHATSAPP_NUMBER is required');
  const client = createTwilioClient(options);
  // A Messaging Service SID, however it was written, goes as MessagingServiceSid: as From
  // (whatsapp:MG...) Twilio refused it as no WhatsApp address.
  const sender = senderFields(withoutPrefix(options.from), whatsappAddress);
  const contentSid = options.contentSid || undefined;

  return async (message) => {
    const hint = destinationHint(message);
    if (message.channel !== 'WHATSAPP') throw refusedLocally(PROVIDER, `cannot send ${message.channel} messages`);
    if (contentSid && message.code === undefined) throw refusedLocally(PROVIDER, 'the content template needs the code, the message has none');
    const content = contentSid
      ? { contentSid, contentVariables: JSON.stringify({ 1: message.code }) }
      : { body: message.body };
    await callTwilio(PROVIDER, hint, () => client.messages.create({ to: whatsappAddress(message.to), ...sender, ...content, ...validityFor(message), ...statusCallbackFor(options.statusCallback, message) }));
  };
};
