/** SMS through Twilio's Messages API with the official SDK. */
import type { MessageSender } from '../../application/ports.js';
import { destinationHint, refusedLocally } from './provider-errors.js';
import { callTwilio, createTwilioClient, senderFields, statusCallbackFor, validityFor, type TwilioClientOptions } from './twilio-client.js';
import { twilioProvider } from './twilio-status.js';

export type TwilioSmsSenderOptions = TwilioClientOptions & {
  /** TWILIO_PHONE_NUMBER in E.164, an alphanumeric sender id, or a Messaging Service SID (MG...). */
  readonly from: string;
};

const PROVIDER = twilioProvider('SMS');

export const createTwilioSmsSender = (options: TwilioSmsSenderOptions): MessageSender => {
  if (!options.from) throw new Error('Twilio SMS: TWILIO_PHONE_NUMBER is required');
  const client = createTwilioClient(options);
  const sender = senderFields(options.from);

  return async (message) => {
    const hint = destinationHint(message);
    if (message.channel !== 'SMS') throw refusedLocally(PROVIDER, `cannot send ${message.channel} messages`);
    await callTwilio(PROVIDER, hint, () => client.messages.create({ to: message.to, ...sender, body: message.body, ...validityFor(message), ...statusCallbackFor(options.statusCallback, message) }));
  };
};
