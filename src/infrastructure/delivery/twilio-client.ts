/**
 * What the Twilio senders share: the SDK client (with a timeout and, for tests, a base URL)
 * and the translation of its errors.
 */
import twilio from 'twilio';
import type { DeliveryFailure, OutgoingMessage } from '../../application/ports.js';
import { errorCode, rejectedByProvider, unreachable } from './provider-errors.js';

export type TwilioClientOptions = {
  readonly accountSid: string;
  readonly authToken: string;
  /**
   * API root replacing https://api.twilio.com, e.g. a local fake in tests. The SDK's own
   * `edge`/`region` options only rewrite the host into api.<edge>.<region>.twilio.com.
   */
  readonly baseUrl?: string;
  /** Per request, connecting included; the SDK's default is 30 s. */
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

type RequestOptions = Parameters<twilio.RequestClient['request']>[0];

/** Sends every request to `base`, keeping the path and query the SDK built. */
class RebasedRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: string,
    options: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(options);
  }

  override request<TData>(options: RequestOptions & { data?: TData }) {
    const target = new URL(options.uri);
    return super.request<TData>({ ...options, uri: `${this.base}${target.pathname}${target.search}` });
  }
}

export const createTwilioClient = (options: TwilioClientOptions): twilio.Twilio => {
  if (!/^AC[0-9a-fA-F]{32}$/.test(options.accountSid)) throw new Error('Twilio: TWILIO_ACCOUNT_SID must be "AC" followed by 32 hex digits');
  if (!options.authToken) throw new Error('Twilio: TWILIO_AUTH_TOKEN is required');
  const timeout = options.timeoutMs ?? 10_000;
  const httpClient = options.baseUrl === undefined ? undefined : new RebasedRequestClient(options.baseUrl.replace(/\/+$/, ''), { timeout });
  // autoRetry stays off: retries belong to the delivery worker, which records each attempt.
  return twilio(options.accountSid, options.authToken, { timeout, autoRetry: false, ...(httpClient ? { httpClient } : {}) });
};

// Rejections that are worth retrying although their HTTP status is a 400.
const OVERRIDES = new Map<number, 'permanent' | 'transient'>([
  [20429, 'transient'], // too many requests
  [21611, 'transient'], // the sender's queue is full
  [14107, 'transient'], // SMS rate limit for the sender
]);
const THROTTLED = new Set<number>([20429, 14107]);

/**
 * SDK errors with a numeric `status` are API answers (RestException, TwilioServiceException);
 * anything else is the transport (axios: ECONNREFUSED, ECONNABORTED on timeout, ...).
 */
export const classifyTwilioError = (provider: string, error: unknown, hint: string): DeliveryFailure => {
  const fields = typeof error === 'object' && error !== null ? (error as { status?: unknown; code?: unknown }) : {};
  if (typeof fields.status === 'number') {
    const code = typeof fields.code === 'number' ? fields.code : undefined;
    return rejectedByProvider({ provider, status: fields.status, providerCode: code, hint, overrides: OVERRIDES, throttleCodes: THROTTLED });
  }
  return unreachable(provider, errorCode(error), hint);
};
