/**
 * Which provider carries each channel: Resend (or SMTP) for email, Twilio for SMS and
 * WhatsApp, each only when configured; otherwise the development outbox file.
 */
import type { MessageSender } from '../../application/ports.js';
import type { Channel } from '../../domain/shared/types.js';
import type { Clock } from '../../application/ports.js';
import { createOutboxSender } from '../delivery/outbox-sender.js';
import { createResendSender } from '../delivery/resend-sender.js';
import { createSmtpSender } from '../delivery/smtp-sender.js';
import { createTwilioSmsSender } from '../delivery/twilio-sms-sender.js';
import { createTwilioWhatsappSender } from '../delivery/twilio-whatsapp-sender.js';

export type ProviderSettings = {
  readonly outboxFile: string;
  readonly resendApiKey?: string;
  readonly emailAddress?: string;
  readonly smtpUrl?: string;
  readonly twilioAccountSid?: string;
  readonly twilioAuthToken?: string;
  readonly twilioPhoneNumber?: string;
  readonly twilioWhatsappNumber?: string;
  readonly twilioWhatsappContentSid?: string;
  /** Test seams: point the SDKs at local fake servers. */
  readonly resendBaseUrl?: string;
  readonly twilioBaseUrl?: string;
};

type Provider = { readonly provider: string; readonly send: MessageSender };

export const createDeliveryProviders = (settings: ProviderSettings, clock: Clock): ((channel: Channel) => Provider) => {
  const outbox: Provider = { provider: 'outbox', send: createOutboxSender({ file: settings.outboxFile, clock }) };
  const from = settings.emailAddress;
  const email: Provider =
    settings.resendApiKey && from
      ? { provider: 'resend', send: createResendSender({ apiKey: settings.resendApiKey, from, ...(settings.resendBaseUrl ? { baseUrl: settings.resendBaseUrl } : {}) }) }
      : settings.smtpUrl && from
        ? { provider: 'smtp', send: createSmtpSender({ url: settings.smtpUrl, from }) }
        : outbox;
  const twilio = settings.twilioAccountSid && settings.twilioAuthToken
    ? { accountSid: settings.twilioAccountSid, authToken: settings.twilioAuthToken, ...(settings.twilioBaseUrl ? { baseUrl: settings.twilioBaseUrl } : {}) }
    : undefined;
  const sms: Provider =
    twilio && settings.twilioPhoneNumber
      ? { provider: 'twilio-sms', send: createTwilioSmsSender({ ...twilio, from: settings.twilioPhoneNumber }) }
      : outbox;
  const whatsapp: Provider =
    twilio && settings.twilioWhatsappNumber
      ? {
          provider: 'twilio-whatsapp',
          send: createTwilioWhatsappSender({
            ...twilio,
            from: settings.twilioWhatsappNumber,
            ...(settings.twilioWhatsappContentSid ? { contentSid: settings.twilioWhatsappContentSid } : {}),
          }),
        }
      : outbox;
  return (channel) => (channel === 'EMAIL' ? email : channel === 'SMS' ? sms : whatsapp);
};
