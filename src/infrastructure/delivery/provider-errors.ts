/**
 * Turns provider and network failures into DeliveryFailure. Messages are built only from
 * numbers, provider error names and a masked destination: provider texts are dropped because
 * they quote the recipient ("The 'To' number +1555... is not valid") and library errors carry
 * the request (body with the code, Authorization header).
 */
import { DeliveryFailure, type OutgoingMessage } from '../../application/ports.js';
import { maskEmail, maskPhone } from '../../domain/shared/hints.js';

const WHATSAPP_PREFIX = /^whatsapp:/i;

/** Masked destination, safe in messages and logs. */
export const destinationHint = (message: Pick<OutgoingMessage, 'channel' | 'to'>): string =>
  message.channel === 'EMAIL' ? maskEmail(message.to) : maskPhone(message.to.replace(WHATSAPP_PREFIX, ''));

/** 408, 425, 429 and 5xx are worth retrying; any other 4xx will fail the same way again. */
export const isTransientStatus = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500;

/** Retry-After as seconds (delta or HTTP date); undefined when absent or unreadable. */
export const parseRetryAfter = (value: unknown, now: number = Date.now()): number | undefined => {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
};

/** A string code property of an unknown thrown value (Node system errors, axios, nodemailer). */
export const errorCode = (error: unknown): string | undefined => {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
};

export type ProviderRejection = {
  readonly provider: string;
  readonly status: number;
  /** The provider's own error name or number, e.g. "validation_error" or 21211. */
  readonly providerCode?: string | number | undefined;
  readonly retryAfterSeconds?: number | undefined;
  readonly hint: string;
  /** Provider codes whose class differs from what their HTTP status says. */
  readonly overrides?: ReadonlyMap<string | number, 'permanent' | 'transient'>;
  /** Provider codes that mean "too many requests" whatever the HTTP status. */
  readonly throttleCodes?: ReadonlySet<string | number>;
};

export type FailureDetails = {
  readonly provider: string;
  readonly permanent: boolean;
  /** What went wrong, from numbers and codes only, e.g. "HTTP 400, 21211" or "SMTP 550". */
  readonly detail: string;
  readonly hint: string;
  readonly retryAfterSeconds?: number | undefined;
  readonly throttled?: boolean;
};

export const deliveryFailure = ({ provider, permanent, detail, hint, retryAfterSeconds, throttled = false }: FailureDetails): DeliveryFailure =>
  new DeliveryFailure(
    `${provider}: ${permanent ? 'rejected' : 'failed'} (${detail}) sending to ${hint}`,
    provider,
    permanent,
    permanent ? undefined : retryAfterSeconds,
    !permanent && throttled,
  );

/** The provider answered with an error status. */
export const rejectedByProvider = (rejection: ProviderRejection): DeliveryFailure => {
  const { provider, status, providerCode, retryAfterSeconds, hint } = rejection;
  const override = providerCode === undefined ? undefined : rejection.overrides?.get(providerCode);
  const permanent = override ? override === 'permanent' : !isTransientStatus(status);
  const code = providerCode === undefined ? '' : `, ${safeToken(providerCode)}`;
  const throttled = status === 429 || (providerCode !== undefined && rejection.throttleCodes?.has(providerCode) === true);
  return deliveryFailure({ provider, permanent, detail: `HTTP ${status}${code}`, hint, retryAfterSeconds, throttled });
};

/**
 * The provider could not be reached or did not answer in time: worth retrying, except for
 * certificate problems, which are configuration.
 */
export const unreachable = (provider: string, reason: string | undefined, hint: string): DeliveryFailure =>
  new DeliveryFailure(`${provider}: unreachable (${safeToken(reason ?? 'network error')}) sending to ${hint}`, provider, isPermanentNetworkReason(reason));

/** Failures decided before any request (bad configuration, a message the sender cannot carry). */
export const refusedLocally = (provider: string, reason: string): DeliveryFailure =>
  new DeliveryFailure(`${provider}: ${reason}`, provider, true);

const isPermanentNetworkReason = (reason: string | undefined): boolean =>
  reason !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(reason);

// Provider codes go into the message verbatim, so keep them to a short token of safe characters.
export const safeToken = (value: string | number): string => String(value).replace(/[^A-Za-z0-9_. -]/g, '').slice(0, 40) || 'unknown';
