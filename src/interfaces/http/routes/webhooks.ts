/**
 * Providers' calls back to the service, saying what became of a message they accepted. A
 * failure is recorded against the send (and attempt) it is about, which moves the send to the
 * app's fallback channel, tries it again on the same channel (Twilio's own pace), or fails it
 * for good.
 * - Twilio's status callback (undelivered, failed), registered with each message; Twilio signs
 *   each call (X-Twilio-Signature: HMAC-SHA1 of the URL it called and the form fields, under the
 *   account's auth token).
 * - Resend's webhook events (email.bounced, email.failed, email.suppressed), for the challenge
 *   and send the email's tags name; signed per Standard Webhooks (svix-signature: HMAC-SHA256 of
 *   the id, timestamp and body, under the endpoint's signing secret).
 * A receipt (Twilio delivered and read, Resend email.delivered) is recorded too, for the app and
 * the audit trail; a spam complaint (Resend email.complained) is counted. An unsigned or badly
 * signed call changes nothing.
 */
import Router from '@koa/router';
import getRawBody from 'raw-body';
import type { Context } from 'koa';
import type { Handlers } from '../../../application/handlers.js';
import type { DeliveryConfirmation } from '../../../application/challenges/record-delivery-confirmation.js';
import type { DeliveryReport } from '../../../application/challenges/record-delivery-report.js';
import { RESEND_PROVIDER, readResendComplaint, readResendEvent, readResendReceipt } from '../../../infrastructure/delivery/resend-events.js';
import type { ResendSignatureCheck } from '../../../infrastructure/delivery/resend-signature.js';
import type { TwilioSignatureCheck } from '../../../infrastructure/delivery/twilio-signature.js';
import { readTwilioReceipt, readTwilioStatus, twilioProvider } from '../../../infrastructure/delivery/twilio-status.js';
import { deliveryComplaintMetrics, deliveryReceiptMetrics, deliveryReportMetrics } from '../../../infrastructure/telemetry/delivery-metrics.js';
import { twilioStatusQuery } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { HttpError } from '../errors.js';
import { payloadTooLarge } from '../middleware/json-body.js';
import { bodyLimitBytes } from '../field-rules.js';

export const WEBHOOKS_PREFIX = '/api/webhooks';
export const TWILIO_STATUS_PATH = `${WEBHOOKS_PREFIX}/twilio/status`;

export type TwilioStatusSettings = {
  /** PUBLIC_URL: the service's address as Twilio reaches it, which the signature covers. */
  readonly publicUrl: string;
  readonly verify: TwilioSignatureCheck;
};

/** The body as it arrived (signatures cover the raw bytes), of the one media type the provider sends. */
const readBody = async (ctx: Context, type: 'application/x-www-form-urlencoded' | 'application/json', what: string): Promise<string> => {
  if (ctx.is(type) === false || !ctx.get('content-type')) throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `The body must be ${what} (Content-Type: ${type})`);
  try {
    return await getRawBody(ctx.req, { limit: bodyLimitBytes, encoding: 'utf8' });
  } catch (error) {
    const { type: reason } = (error ?? {}) as { type?: unknown };
    if (reason === 'entity.too.large') throw payloadTooLarge();
    throw new HttpError('VALIDATION_FAILED', 'The body could not be read', { details: [{ field: 'body', message: `must be ${what}` }] });
  }
};

const readForm = async (ctx: Context): Promise<Record<string, string>> => {
  const form: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(await readBody(ctx, 'application/x-www-form-urlencoded', 'a form'))) form[key] = value;
  return form;
};

/** `ignore`: receipts are answered 204 and dropped, uncounted (DELIVERY_RECEIPTS, while older builds that cannot read them share the log). */
export type ReceiptMode = 'record' | 'ignore';

export const createWebhooksRouter = (handlers: Handlers, twilio: TwilioStatusSettings | undefined, resend: ResendSignatureCheck | undefined, receipts: ReceiptMode = 'record'): Router => {
  const router = new Router({ prefix: WEBHOOKS_PREFIX });
  const countReport = deliveryReportMetrics();
  const countReceipt = deliveryReceiptMetrics();
  const countComplaint = deliveryComplaintMetrics();
  /**
   * Records what a provider reported, counted whatever happens: a report whose handling threw
   * (the store out of reach) is lost too. Not recorded (its attempt's own outcome never reached
   * the log while it waited, or too much contention): say so, so the provider's logs show it
   * (Resend calls again later).
   */
  const recorded = async <Outcome extends string>(
    of: { readonly channel: DeliveryReport['channel']; readonly provider: string },
    count: typeof countReport,
    handle: () => Promise<Outcome>,
  ): Promise<void> => {
    let outcome: Outcome | 'ERROR' = 'ERROR';
    try {
      outcome = await handle();
    } finally {
      count(of.channel, of.provider, outcome);
    }
    if (outcome === 'NOT_RECORDED') throw new HttpError('SERVICE_UNAVAILABLE', 'The report could not be recorded now', { headers: { 'Retry-After': '5' } });
  };
  const record = (report: DeliveryReport) => recorded(report, countReport, () => handlers.recordDeliveryReport(report));
  const confirm = async (receipt: DeliveryConfirmation) => (receipts === 'record' ? recorded(receipt, countReceipt, () => handlers.recordDeliveryConfirmation(receipt)) : undefined);

  router.post('/twilio/status', async (ctx) => {
    if (!twilio) throw new HttpError('ROUTE_NOT_FOUND', 'Twilio status callbacks are not taken here: set PUBLIC_URL and the TWILIO_* variables');
    const form = await readForm(ctx);
    // The URL Twilio called is the one it was given: PUBLIC_URL and the path and query as they
    // reached the service (a proxy may strip a prefix PUBLIC_URL keeps; not the query).
    const signature = ctx.get('x-twilio-signature');
    if (signature === '' || !twilio.verify(`${twilio.publicUrl}${ctx.originalUrl}`, form, signature))
      throw new HttpError('FORBIDDEN', 'The request does not carry a valid X-Twilio-Signature');
    const query = decodeOrThrow(twilioStatusQuery, ctx.query);
    const provider = twilioProvider(query.channel);
    const failure = readTwilioStatus(form, provider);
    if (failure) await record({ ...query, provider, ...failure });
    const receipt = readTwilioReceipt(form);
    if (receipt) await confirm({ ...query, provider, ...receipt });
    ctx.status = 204;
  });

  router.post('/resend', async (ctx) => {
    if (!resend) throw new HttpError('ROUTE_NOT_FOUND', "Resend's webhooks are not taken here: set RESEND_WEBHOOK_SECRET");
    const payload = await readBody(ctx, 'application/json', 'JSON');
    const header = (name: string) => ctx.get(`svix-${name}`) || ctx.get(`webhook-${name}`);
    const event = resend(payload, { id: header('id'), timestamp: header('timestamp'), signature: header('signature') });
    if (event === undefined)
      throw new HttpError('FORBIDDEN', 'The request does not carry a valid signature (svix-id, svix-timestamp within 5 minutes, svix-signature)');
    // No attempt named: Resend sends one email per send, whichever attempt heard it accepted.
    const failure = readResendEvent(event);
    if (failure) await record({ ...failure, channel: 'EMAIL', provider: RESEND_PROVIDER, throttled: false });
    const receipt = readResendReceipt(event);
    if (receipt) await confirm({ ...receipt, channel: 'EMAIL', provider: RESEND_PROVIDER, read: false });
    if (readResendComplaint(event)) countComplaint('EMAIL', RESEND_PROVIDER);
    ctx.status = 204;
  });
  return router;
};
