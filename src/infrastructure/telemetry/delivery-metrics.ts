/**
 * Every call to a delivery provider as the histogram `otp_verify.delivery.duration` (seconds,
 * by channel, provider and outcome: `sent`, `transient_failure` (retried) or
 * `permanent_failure`), so a dashboard shows each provider's rate, error rate and latency.
 * Its count is the number of calls, retries included. Without a metrics exporter the meter is
 * OpenTelemetry's no-op.
 */
import { metrics } from '@opentelemetry/api';
import { DeliveryFailure, type MessageSender } from '../../application/ports.js';
import type { Channel } from '../../domain/shared/types.js';

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** One histogram for every provider; `measure(channel, provider, send)` wraps one sender with it. */
export const deliveryMetrics = () => {
  const duration = metrics.getMeter('otp-verify').createHistogram('otp_verify.delivery.duration', {
    description: 'Duration of calls to a delivery provider, by outcome',
    unit: 's',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  return (channel: Channel, provider: string, send: MessageSender): MessageSender => async (message) => {
    const started = performance.now();
    const record = (outcome: string) => duration.record((performance.now() - started) / 1000, { channel, provider, outcome });
    try {
      await send(message);
      record('sent');
    } catch (error) {
      // As the delivery step treats it: anything but a permanent DeliveryFailure is retried.
      record(error instanceof DeliveryFailure && error.permanent ? 'permanent_failure' : 'transient_failure');
      throw error;
    }
  };
};

/**
 * Providers' later reports of failure (Twilio's status callbacks) as the counter
 * `otp_verify.delivery.reports`, by channel, provider and what the service made of each
 * (`failed`, `fell_back`, `retry_scheduled`, `ignored`, `not_recorded`, `error`): how many codes a channel
 * loses after its provider accepted them (WhatsApp numbers not on WhatsApp, say).
 */
export const deliveryReportMetrics = () => {
  const reports = metrics.getMeter('otp-verify').createCounter('otp_verify.delivery.reports', {
    description: "Providers' reports of messages they accepted and did not deliver, by what the service did",
  });
  return (channel: Channel, provider: string, outcome: string): void => reports.add(1, { channel, provider, outcome: outcome.toLowerCase() });
};

/**
 * Providers' receipts (Twilio delivered and read, Resend email.delivered) as the counter
 * `otp_verify.delivery.receipts`, by channel, provider and what the service made of each
 * (`delivered`, `read`, `ignored`, `not_recorded`, `error`): against the calls counted `sent`,
 * how many messages a channel gets to the recipient.
 */
export const deliveryReceiptMetrics = () => {
  const receipts = metrics.getMeter('otp-verify').createCounter('otp_verify.delivery.receipts', {
    description: "Providers' receipts of messages they delivered (or that were read), by what the service did",
  });
  return (channel: Channel, provider: string, outcome: string): void => receipts.add(1, { channel, provider, outcome: outcome.toLowerCase() });
};

/**
 * Recipients' spam complaints about a code's message (Resend's email.complained) as the counter
 * `otp_verify.delivery.complaints`, by channel and provider: codes their recipients did not ask
 * for (someone sending codes to addresses not theirs), and what the sending domain's reputation
 * pays for.
 */
export const deliveryComplaintMetrics = () => {
  const complaints = metrics.getMeter('otp-verify').createCounter('otp_verify.delivery.complaints', {
    description: "Recipients' spam complaints about a message with a code, by channel and provider",
  });
  return (channel: Channel, provider: string): void => complaints.add(1, { channel, provider });
};
