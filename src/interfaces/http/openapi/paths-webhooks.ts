import { errorResponse, errorResponses, operation } from './operation.js';
import { uuid } from './schema-kit.js';

const statusCallback = operation({
  tag: 'webhooks',
  summary: "Twilio's status callback for an SMS or WhatsApp code (called by Twilio, not by apps)",
  description:
    'Registered as the StatusCallback of every message when PUBLIC_URL is set; the query names the challenge, send, attempt and channel. ' +
    'Requests must carry a valid X-Twilio-Signature (403 otherwise). MessageStatus failed or undelivered, for the attempt the challenge counts ' +
    "delivered, moves the send to the app's fallback channel or fails it for good (or, for Twilio's own pace: 30001, 30022, 63018, retries it on " +
    'the same channel after a backoff). MessageStatus delivered or read, for any attempt at the current send and channel not reported undelivered, is recorded (delivery.delivered_at ' +
    'and read_at of GET /api/code/{challenge_id}; also after the challenge closed; it also counts the send delivered; dropped with ' +
    'DELIVERY_RECEIPTS=ignore). Any other status, a repeat, or a report of an attempt or send replaced ' +
    'since, changes nothing (still 204). 404 when this deployment takes no status callbacks (PUBLIC_URL or TWILIO_* unset); 503 when the challenge was too contended to record ' +
    "the report. A report that comes before its attempt's outcome waits a few seconds for it, then is recorded all the same.",
  auth: 'none',
  parameters: [
    { name: 'challenge_id', in: 'query', required: true, schema: uuid },
    { name: 'send', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } },
    { name: 'attempt', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } },
    { name: 'channel', in: 'query', required: true, schema: { type: 'string', enum: ['SMS', 'WHATSAPP'] } },
  ],
  success: { status: 204, description: 'Taken (whether or not it changed anything)' },
  errors: [400, 403, 404],
});

const resendEvents = operation({
  tag: 'webhooks',
  summary: "Resend's webhook for a code email (called by Resend, not by apps)",
  description:
    "Register this URL in Resend's webhooks for email.bounced, email.failed, email.suppressed and email.delivered, and set RESEND_WEBHOOK_SECRET to the " +
    "endpoint's signing secret; every email then carries the tags otp_challenge_id and otp_send. Requests must carry a valid signature " +
    '(svix-id, svix-timestamp within 5 minutes, svix-signature; 403 otherwise). A failure event for the send the tags name fails that send ' +
    'for good (the app sees FAILED); email.delivered for it is recorded (delivery.delivered_at of GET /api/code/{challenge_id}; it also counts the send delivered); any other event, a repeat, an email without these tags, or a report of a send replaced since changes nothing ' +
    '(still 204). 404 when this deployment takes no Resend webhooks; 503 when the challenge was too contended to record the report ' +
    '(Resend calls again later).',
  auth: 'none',
  success: { status: 204, description: 'Taken (whether or not it changed anything)' },
  errors: [400, 403, 404],
});

export const webhookPaths = {
  '/api/webhooks/twilio/status': {
    post: {
      ...statusCallback,
      parameters: [...(statusCallback.parameters ?? []), { name: 'X-Twilio-Signature', in: 'header', required: true, schema: { type: 'string' } }],
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: {
              type: 'object',
              description: "Twilio's status callback fields; the service reads MessageStatus and ErrorCode",
              properties: { MessageSid: { type: 'string' }, MessageStatus: { type: 'string' }, ErrorCode: { type: 'string' } },
              required: ['MessageStatus'],
              additionalProperties: { type: 'string' },
            },
          },
        },
      },
      responses: {
        ...statusCallback.responses,
        '403': errorResponse('X-Twilio-Signature is missing or does not match the URL, the form and the auth token'),
        '413': { $ref: `#/components/responses/${errorResponses[413].name}` },
        '415': errorResponse('The body is not application/x-www-form-urlencoded'),
      },
    },
  },
  '/api/webhooks/resend': {
    post: {
      ...resendEvents,
      parameters: ['svix-id', 'svix-timestamp', 'svix-signature'].map((name) => ({ name, in: 'header', required: true, schema: { type: 'string' } })),
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              description: "Resend's webhook event; the service reads type, data.tags and data.bounce / data.suppressed type words",
              properties: {
                type: { type: 'string' },
                created_at: { type: 'string' },
                data: { type: 'object', properties: { email_id: { type: 'string' }, tags: { type: 'object', additionalProperties: { type: 'string' } } } },
              },
              required: ['type', 'data'],
            },
          },
        },
      },
      responses: {
        ...resendEvents.responses,
        '403': errorResponse('The signature is missing, does not match the body and the signing secret, or is more than 5 minutes old'),
        '413': { $ref: `#/components/responses/${errorResponses[413].name}` },
        '415': errorResponse('The body is not application/json'),
      },
    },
  },
};
