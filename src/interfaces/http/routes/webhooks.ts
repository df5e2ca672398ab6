/**
 * Providers' calls back to the service. Twilio's status callback says what became of a message
 * it accepted; a failure (undelivered, failed) is recorded against the attempt the callback was
 * registered for, which moves the send to the app's fallback channel, tries it again on the same
 * channel (Twilio's own pace), or fails it for good.
 * Twilio signs each call (X-Twilio-Signature: HMAC-SHA1 of the URL it called and the form
 * fields, under the account's auth token); an unsigned or badly signed call changes nothing.
 */
import Router from '@koa/router';
import getRawBody from 'raw-body';
import type { Context } from 'koa';
import type { Handlers } from '../../../application/handlers.js';
import type { TwilioSignatureCheck } from '../../../infrastructure/delivery/twilio-signature.js';
import { readTwilioStatus, twilioProvider } from '../../../infrastructure/delivery/twilio-status.js';
import { deliveryReportMetrics } from '../../../infrastructure/telemetry/delivery-metrics.js';
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

const readForm = async (ctx: Context): Promise<Record<string, string>> => {
  if (ctx.is('application/x-www-form-urlencoded') === false || !ctx.get('content-type'))
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'The body must be a form (Content-Type: application/x-www-form-urlencoded)');
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit: bodyLimitBytes, encoding: 'utf8' });
  } catch (error) {
    const { type } = (error ?? {}) as { type?: unknown };
    if (type === 'entity.too.large') throw payloadTooLarge();
    throw new HttpError('VALIDATION_FAILED', 'The body could not be read', { details: [{ field: 'body', message: 'must be a form' }] });
  }
  const form: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) form[key] = value;
  return form;
};

export const createWebhooksRouter = (handlers: Handlers, twilio: TwilioStatusSettings | undefined): Router => {
  const router = new Router({ prefix: WEBHOOKS_PREFIX });
  const count = deliveryReportMetrics();
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
    if (failure) {
      // Counted whatever happens: a report whose handling threw (the store out of reach) is lost too.
      let outcome: Awaited<ReturnType<Handlers['recordDeliveryReport']>> | 'ERROR' = 'ERROR';
      try {
        outcome = await handlers.recordDeliveryReport({ ...query, provider, ...failure });
      } finally {
        count(query.channel, provider, outcome);
      }
      // Not recorded (its attempt's own outcome never reached the log while it waited, or too
      // much contention): say so, so Twilio's debugger shows it.
      if (outcome === 'NOT_RECORDED') throw new HttpError('SERVICE_UNAVAILABLE', 'The report could not be recorded now', { headers: { 'Retry-After': '5' } });
    }
    ctx.status = 204;
  });
  return router;
};
