/**
 * What the Twilio senders share: the SDK client (with a timeout and, for tests, a base URL)
 * and the translation of its errors.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import twilio from 'twilio';
import type { DeliveryFailure, OutgoingMessage } from '../../application/ports.js';
import { deliveryFailure, errorCode, parseRetryAfter, rejectedByProvider, unreachable } from './provider-errors.js';
import { isTwilioFailedStatus, isTwilioThrottleCode } from './twilio-status.js';

export type TwilioClientOptions = {
  readonly accountSid: string;
  readonly authToken: string;
  /**
   * API root replacing https://api.twilio.com, e.g. a local fake in tests. The SDK's own
   * `edge`/`region` options only rewrite the host into api.<edge>.<region>.twilio.com.
   */
  readonly baseUrl?: string;
  /** The whole request, connecting included, answer read to the end (default 10 s). */
  readonly timeoutMs?: number;
  /**
   * Where Twilio reports what became of each message (its StatusCallback): the service's own
   * status route as Twilio reaches it. Without it, only refusals Twilio answers at once are seen.
   */
  readonly statusCallback?: string;
};

/**
 * The StatusCallback of one message: the route, naming the challenge, send, attempt and channel
 * the report is about. Twilio signs the whole URL, query included, so none of it can be forged.
 */
export const statusCallbackFor = (base: string | undefined, message: Pick<OutgoingMessage, 'challenge_id' | 'send' | 'attempt' | 'channel'>): { statusCallback?: string } => {
  if (!base) return {};
  const query = new URLSearchParams({ challenge_id: message.challenge_id, send: String(message.send), attempt: String(message.attempt), channel: message.channel });
  return { statusCallback: `${base}?${query.toString()}` };
};

/**
 * Who sends, as Twilio's Messages API takes it: a Messaging Service SID (MG...) as
 * MessagingServiceSid (Twilio picks the service's sender for the channel), anything else as
 * From, written as the channel writes addresses (`address`).
 */
export const senderFields = (configured: string, address: (sender: string) => string = (sender) => sender): { messagingServiceSid: string } | { from: string } =>
  /^MG[0-9a-fA-F]{32}$/.test(configured) ? { messagingServiceSid: configured } : { from: address(configured) };

/** Twilio keeps a queued message for 1 to 36,000 s (ValidityPeriod; its default is the most). */
const MAX_VALIDITY_SECONDS = 36_000;

/**
 * The ValidityPeriod of one message: the code's time left, so a message still in Twilio's queue
 * when its code expires is dropped (failed with 30036) instead of arriving dead, up to hours
 * late behind a long queue. At least 1 s, as Twilio takes it.
 */
export const validityFor = (message: Pick<OutgoingMessage, 'valid_for_seconds'>): { validityPeriod?: number } =>
  message.valid_for_seconds === undefined ? {} : { validityPeriod: Math.min(MAX_VALIDITY_SECONDS, Math.max(1, Math.floor(message.valid_for_seconds))) };

type RequestOptions = Parameters<twilio.RequestClient['request']>[0];

/** The Retry-After header of the last answer to a call made in `callTwilio`. */
const answers = new AsyncLocalStorage<{ retryAfter?: unknown }>();

/**
 * Keeps the Retry-After of each answer for `callTwilio` (the SDK's RestException keeps the
 * status and body of a refusal, not its headers), and sends every request to `base` when set,
 * keeping the path and query the SDK built.
 */
class HeaderKeepingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: string | undefined,
    options: ConstructorParameters<typeof twilio.RequestClient>[0] & { readonly timeout: number },
  ) {
    super(options);
    // The SDK's `timeout` is the socket's idle time: an answer that trickles in a byte at a time
    // kept a call going for ever (a review saw 25 s and counting with 1.5 s set), past the
    // delivery lease, so another attempt sent the code again while it ran. The whole call,
    // connecting included, is bounded as DELIVERY_TIMEOUT_MS says.
    const { timeout } = options;
    this.axios.interceptors.request.use((config) => ({ ...config, signal: config.signal ?? AbortSignal.timeout(timeout) }));
  }

  override async request<TData>(options: RequestOptions & { data?: TData }) {
    const target = this.base === undefined ? undefined : new URL(options.uri);
    const uri = target === undefined ? options.uri : `${this.base}${target.pathname}${target.search}`;
    const response = await super.request<TData>({ ...options, uri });
    const seen = answers.getStore();
    if (seen !== undefined) seen.retryAfter = (response.headers as Record<string, unknown> | undefined)?.['retry-after'];
    return response;
  }
}

export const createTwilioClient = (options: TwilioClientOptions): twilio.Twilio => {
  if (!/^AC[0-9a-fA-F]{32}$/.test(options.accountSid)) throw new Error('Twilio: TWILIO_ACCOUNT_SID must be "AC" followed by 32 hex digits');
  if (!options.authToken) throw new Error('Twilio: TWILIO_AUTH_TOKEN is required');
  const timeout = options.timeoutMs ?? 10_000;
  const httpClient = new HeaderKeepingRequestClient(options.baseUrl?.replace(/\/+$/, ''), { timeout, autoRetry: false });
  // autoRetry stays off: retries belong to the delivery worker, which records each attempt.
  return twilio(options.accountSid, options.authToken, { timeout, autoRetry: false, httpClient });
};

// Rejections that are worth retrying although their HTTP status is a 400.
const OVERRIDES = new Map<number, 'permanent' | 'transient'>([
  [20429, 'transient'], // too many requests
  [21611, 'transient'], // the sender's queue is full
  [14107, 'transient'], // SMS rate limit for the sender
]);
const THROTTLED = new Set<number>([20429, 14107]);

/**
 * One of Twilio's error codes, five-digit numbers (21211, 30007, ...), from an answer; any other
 * value (a server echoing the request could put the code's digits there) is dropped.
 */
const twilioErrorCode = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 10_000 && value <= 99_999 ? value : undefined;

/**
 * SDK errors with a numeric `status` are API answers (RestException, TwilioServiceException);
 * anything else is the transport (axios: ECONNREFUSED, ECONNABORTED on timeout, ...).
 */
const classifyTwilioError = (provider: string, error: unknown, hint: string, retryAfterSeconds?: number): DeliveryFailure => {
  const fields = typeof error === 'object' && error !== null ? (error as { status?: unknown; code?: unknown }) : {};
  if (typeof fields.status === 'number') {
    return rejectedByProvider({ provider, status: fields.status, providerCode: twilioErrorCode(fields.code), hint, overrides: OVERRIDES, throttleCodes: THROTTLED, retryAfterSeconds });
  }
  // The call's deadline (the AbortSignal set on every request) ends it as ERR_CANCELED: the
  // only abort there is, so it reads as axios's own timeout did, ECONNABORTED.
  const code = errorCode(error);
  return unreachable(provider, code === 'ERR_CANCELED' ? 'ECONNABORTED' : code, hint);
};

/**
 * A message Twilio created already failed (`status` failed or undelivered in the create answer,
 * with its `errorCode`): what a status callback would report later, read the same way (a
 * throttle is retried on the channel, any other failure is final for it). Counting it as sent
 * left the code waiting for a callback that may never come (none without PUBLIC_URL).
 */
const failedOnCreation = (provider: string, created: unknown, hint: string): DeliveryFailure | undefined => {
  const fields = typeof created === 'object' && created !== null ? (created as { status?: unknown; errorCode?: unknown }) : {};
  if (!isTwilioFailedStatus(fields.status)) return undefined;
  const numbered = twilioErrorCode(fields.errorCode);
  const code = numbered === undefined ? undefined : String(numbered);
  const throttled = isTwilioThrottleCode(code);
  return deliveryFailure({ provider, permanent: !throttled, detail: `created as ${fields.status}, ${code ?? 'no error code'}`, hint, throttled });
};

/**
 * One call to Twilio with a client of `createTwilioClient`; a refusal becomes a DeliveryFailure
 * that keeps the answer's Retry-After, and so does a message created already failed.
 */
export const callTwilio = async (provider: string, hint: string, call: () => Promise<unknown>): Promise<void> => {
  const seen: { retryAfter?: unknown } = {};
  let created: unknown;
  try {
    created = await answers.run(seen, call);
  } catch (error) {
    throw classifyTwilioError(provider, error, hint, parseRetryAfter(seen.retryAfter));
  }
  const failed = failedOnCreation(provider, created, hint);
  if (failed !== undefined) throw failed;
};
