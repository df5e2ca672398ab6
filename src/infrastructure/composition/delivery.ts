/**
 * Which provider carries each channel: Resend (or SMTP) for email, Twilio for SMS and
 * WhatsApp, each only when configured; otherwise the development outbox file when there is one,
 * else none (NO_PROVIDER: the channel is refused, and a send already queued fails). A provider's
 * sender (and its SDK: twilio ~21 MB, nodemailer ~13 MB) is imported only when configured;
 * it is still built here, at start, so a bad setting fails the start rather than the first send.
 * Every provider call is measured (telemetry/delivery-metrics.ts).
 */
import { NO_PROVIDER, type Clock, type MessageSender } from '../../application/ports.js';
import type { Channel } from '../../domain/shared/types.js';
import { createOutboxSender } from '../delivery/outbox-sender.js';
import { createPacer } from '../delivery/pacer.js';
import { refusedLocally } from '../delivery/provider-errors.js';
import { RESEND_PROVIDER } from '../delivery/resend-events.js';
import { twilioProvider } from '../delivery/twilio-status.js';
import { deliveryMetrics } from '../telemetry/delivery-metrics.js';

export type ProviderSettings = {
  /** Undefined: no outbox, so a channel without a provider has none. */
  readonly outboxFile: string | undefined;
  readonly resendApiKey?: string;
  /** RESEND_RATE_PER_SECOND: Resend's calls are paced to it (default 2, Resend's default rate). */
  readonly resendRatePerSecond?: number;
  readonly emailAddress?: string;
  /** Resend's webhooks are taken (RESEND_WEBHOOK_SECRET): every email is tagged with its challenge and send. */
  readonly resendTagged?: boolean;
  readonly smtpUrl?: string;
  readonly twilioAccountSid?: string;
  readonly twilioAuthToken?: string;
  readonly twilioPhoneNumber?: string;
  readonly twilioWhatsappNumber?: string;
  readonly twilioWhatsappContentSid?: string;
  /** Twilio's StatusCallback for every message (the service's status route under PUBLIC_URL): later failures reach the service. */
  readonly twilioStatusCallbackUrl?: string;
  /** Per provider request, connecting included (DELIVERY_TIMEOUT_MS; each sender's default is 10 s). */
  readonly timeoutMs?: number;
  /** Test seams: point the SDKs at local fake servers. */
  readonly resendBaseUrl?: string;
  readonly twilioBaseUrl?: string;
};

type Provider = { readonly provider: string; readonly send: MessageSender; readonly turn?: (key: string, withinMs?: number) => number; readonly dedupes?: boolean };

/** Resend's rate for an account that was not given more: 2 requests a second. */
const DEFAULT_RESEND_RATE = 2;

type TwilioAccount = { readonly accountSid: string; readonly authToken: string; readonly baseUrl?: string; readonly timeoutMs?: number; readonly statusCallback?: string };

const timeoutOf = (settings: ProviderSettings) => (settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs });

const emailProvider = async (settings: ProviderSettings, outbox: Provider): Promise<Provider> => {
  const from = settings.emailAddress;
  if (settings.resendApiKey && from) {
    const { createResendSender } = await import('../delivery/resend-sender.js');
    const send = createResendSender({
      apiKey: settings.resendApiKey,
      from,
      ...timeoutOf(settings),
      ...(settings.resendBaseUrl ? { baseUrl: settings.resendBaseUrl } : {}),
      ...(settings.resendTagged ? { tagged: true } : {}),
    });
    return { provider: RESEND_PROVIDER, send, turn: createPacer({ ratePerSecond: settings.resendRatePerSecond ?? DEFAULT_RESEND_RATE }).turn, dedupes: true };
  }
  if (settings.smtpUrl && from) {
    const { createSmtpSender } = await import('../delivery/smtp-sender.js');
    return { provider: 'smtp', send: createSmtpSender({ url: settings.smtpUrl, from, ...timeoutOf(settings) }) };
  }
  return outbox;
};

const smsProvider = async (settings: ProviderSettings, twilio: TwilioAccount | undefined, outbox: Provider): Promise<Provider> => {
  if (!twilio || !settings.twilioPhoneNumber) return outbox;
  const { createTwilioSmsSender } = await import('../delivery/twilio-sms-sender.js');
  return { provider: twilioProvider('SMS'), send: createTwilioSmsSender({ ...twilio, from: settings.twilioPhoneNumber }) };
};

const whatsappProvider = async (settings: ProviderSettings, twilio: TwilioAccount | undefined, outbox: Provider): Promise<Provider> => {
  if (!twilio || !settings.twilioWhatsappNumber) return outbox;
  const { createTwilioWhatsappSender } = await import('../delivery/twilio-whatsapp-sender.js');
  return {
    provider: twilioProvider('WHATSAPP'),
    send: createTwilioWhatsappSender({
      ...twilio,
      from: settings.twilioWhatsappNumber,
      ...(settings.twilioWhatsappContentSid ? { contentSid: settings.twilioWhatsappContentSid } : {}),
    }),
  };
};

export const createDeliveryProviders = async (settings: ProviderSettings, clock: Clock): Promise<(channel: Channel) => Provider> => {
  const outbox: Provider =
    settings.outboxFile === undefined
      ? { provider: NO_PROVIDER, send: async (message) => Promise.reject(refusedLocally(NO_PROVIDER, `no provider is configured for ${message.channel}`)) }
      : { provider: 'outbox', send: createOutboxSender({ file: settings.outboxFile, clock }) };
  const twilio: TwilioAccount | undefined =
    settings.twilioAccountSid && settings.twilioAuthToken
      ? {
          accountSid: settings.twilioAccountSid,
          authToken: settings.twilioAuthToken,
          ...timeoutOf(settings),
          ...(settings.twilioBaseUrl ? { baseUrl: settings.twilioBaseUrl } : {}),
          ...(settings.twilioStatusCallbackUrl ? { statusCallback: settings.twilioStatusCallbackUrl } : {}),
        }
      : undefined;
  // One after the other, in this order, so a start with several bad settings names the same one first.
  const email = await emailProvider(settings, outbox);
  const sms = await smsProvider(settings, twilio, outbox);
  const whatsapp = await whatsappProvider(settings, twilio, outbox);
  const measure = deliveryMetrics();
  const measured = (channel: Channel, { send, ...rest }: Provider): Provider => ({ ...rest, send: measure(channel, rest.provider, send) });
  const byChannel = { EMAIL: measured('EMAIL', email), SMS: measured('SMS', sms), WHATSAPP: measured('WHATSAPP', whatsapp) };
  return (channel) => byChannel[channel];
};
