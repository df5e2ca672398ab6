/** Email through Resend's REST API with the official SDK. */
import { Resend } from 'resend';
import type { MessageSender } from '../../application/ports.js';
import { destinationHint, parseRetryAfter, refusedLocally, rejectedByProvider, unreachable } from './provider-errors.js';
import { RESEND_PROVIDER, resendTagsFor } from './resend-events.js';

export type ResendSenderOptions = {
  readonly apiKey: string;
  /** EMAIL_ADDRESS: a sender on a domain verified in Resend, e.g. "Acme <codes@acme.example>". */
  readonly from: string;
  /** API root; tests point it at a local server. Set explicitly so RESEND_BASE_URL cannot redirect mail. */
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  /**
   * Tag every email with its challenge and send, which Resend's webhook events return: set
   * when this deployment takes them (RESEND_WEBHOOK_SECRET). Only then, so that a send begun by
   * a build without tags is not retried by one with them under the same idempotency key (Resend
   * would refuse the changed request).
   */
  readonly tagged?: boolean;
};

const DEFAULT_BASE_URL = 'https://api.resend.com';

// Quotas reset after hours or days, long after the code has expired: retrying is pointless.
const OVERRIDES = new Map<string, 'permanent' | 'transient'>([
  ['daily_quota_exceeded', 'permanent'],
  ['monthly_quota_exceeded', 'permanent'],
  ['concurrent_idempotent_requests', 'transient'],
]);

/**
 * Resend's error names are snake_case words (validation_error, missing_required_field,
 * rate_limit_exceeded, ...): anything else is replaced by a fixed word, never shown.
 */
export const resendErrorName = (name: unknown): string => (typeof name === 'string' && /^[a-z_]{1,40}$/.test(name) ? name : 'unexpected');

/** An HTTP error status from the error body, or undefined (none, or not a status). */
const httpStatus = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599 ? value : undefined;

/**
 * The HTTP status each of Resend's error names is answered with. Earlier releases of the SDK
 * exported this table (RESEND_ERROR_CODES_BY_KEY, src/interfaces.ts of resend-node); the
 * installed 6.x keeps only the names (the RESEND_ERROR_CODE_KEY type), so it is written here:
 * the SDK's table, with invalid_api_key as Resend spells it (the table had invalid_api_Key), and
 * the names the 6.x type lists besides (restricted_api_key, invalid_attachment, the quotas,
 * security_error) at the statuses Resend's errors page and the SDK's older tables give them.
 */
const STATUS_BY_NAME: ReadonlyMap<string, number> = new Map([
  ['invalid_idempotency_key', 400],
  ['missing_api_key', 401],
  ['restricted_api_key', 401],
  ['invalid_api_key', 403],
  ['invalid_from_address', 403],
  ['validation_error', 403],
  ['not_found', 404],
  ['method_not_allowed', 405],
  ['invalid_idempotent_request', 409],
  ['concurrent_idempotent_requests', 409],
  ['missing_required_field', 422],
  ['invalid_access', 422],
  ['invalid_attachment', 422],
  ['invalid_parameter', 422],
  ['invalid_region', 422],
  ['rate_limit_exceeded', 429],
  ['daily_quota_exceeded', 429],
  ['monthly_quota_exceeded', 429],
  ['security_error', 451],
  ['internal_server_error', 500],
]);

/**
 * The status of an error answer. Resend's bodies do not all carry statusCode (a 429 may come as
 * just {name: 'rate_limit_exceeded', message}), and the SDK hands the body over as it came, not
 * the status it was answered with: without statusCode, the status is the one Resend gives the
 * error's name. Not application_error: with no status, that is the SDK's word that no answer
 * came (refused connection, timeout).
 */
const errorStatus = (error: { readonly statusCode?: unknown; readonly name?: unknown }): number | undefined =>
  httpStatus(error.statusCode) ?? (typeof error.name === 'string' ? STATUS_BY_NAME.get(error.name) : undefined);

export const createResendSender = (options: ResendSenderOptions): MessageSender => {
  if (!options.apiKey) throw new Error('Resend: an API key is required');
  if (!options.from) throw new Error('Resend: a sender address (EMAIL_ADDRESS) is required');
  const resend = new Resend(options.apiKey, { baseUrl: (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '') });
  const timeoutMs = options.timeoutMs ?? 10_000;

  return async (message) => {
    const hint = destinationHint(message);
    if (message.channel !== 'EMAIL') throw refusedLocally(RESEND_PROVIDER, `cannot send ${message.channel} messages`);
    // The SDK resolves with { error } instead of throwing; network failures and timeouts
    // come back as an error without a status code.
    const { error, headers } = await resend.emails.send(
      {
        from: options.from,
        to: [message.to],
        subject: message.subject ?? '',
        text: message.body,
        ...(message.html === undefined ? {} : { html: message.html }),
        ...(options.tagged ? { tags: resendTagsFor(message) } : {}),
      },
      // The key and the message are the same on every attempt at one send: an email Resend
      // accepted but whose answer was lost (a timeout, the worker's crash) is not sent again when
      // the attempt is; Resend answers the repeat as it answered the first. A repeat whose message
      // differs all the same (the app's templates changed meanwhile) is refused with 409
      // invalid_idempotent_request, a permanent failure: Resend does not say whether it sent.
      { idempotencyKey: message.idempotency_key, signal: AbortSignal.timeout(timeoutMs) },
    );
    if (!error) return;
    // The SDK returns the error body as Resend (or whatever answered) wrote it: status and
    // name are checked here, since a server echoing the request there would put the code and
    // the address into the failure, its log line, DeliveryFailed and the API.
    const status = errorStatus(error);
    if (status === undefined) throw unreachable(RESEND_PROVIDER, error.name === 'application_error' ? 'no response' : 'no status', hint);
    throw rejectedByProvider({
      provider: RESEND_PROVIDER,
      status,
      providerCode: resendErrorName(error.name),
      retryAfterSeconds: parseRetryAfter(headers?.['retry-after']),
      hint,
      overrides: OVERRIDES,
    });
  };
};
