/** Email over SMTP with nodemailer: one connection per message, HTML and plain text alternatives. */
import { createTransport } from 'nodemailer';
import type { MessageSender } from '../../application/ports.js';
import { parseEmailSender } from '../config/config.js';
import { deliveryFailure, destinationHint, errorCode, refusedLocally, safeToken, unreachable } from './provider-errors.js';

export type SmtpSenderOptions = {
  /**
   * SMTP_URL: smtp://user:pass@host:587 (STARTTLS required, except to a loopback host) or
   * smtps://user:pass@host:465; ?requireTLS=false lets smtp:// fall back to plain text.
   */
  readonly url: string;
  /** EMAIL_ADDRESS: an address, or a display name and one ("Acme <codes@acme.example>"). */
  readonly from: string;
  /**
   * Bounds the whole message, from connecting to the server's answer to its data, and each wait
   * on the socket within it.
   */
  readonly timeoutMs?: number;
};

const PROVIDER = 'smtp';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

type Endpoint = { host: string; port: number; secure: boolean; requireTLS: boolean; auth?: { user: string; pass: string } };

// Parsed here rather than by nodemailer so the URL cannot switch on its logger (which would
// print message bodies with codes) and so errors never echo the URL's password.
export const parseSmtpUrl = (url: string): Endpoint => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('SMTP_URL is not a valid URL (expected smtp://user:pass@host:port or smtps://...)');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new Error('SMTP_URL must start with smtp:// or smtps://');
  if (!parsed.hostname) throw new Error('SMTP_URL names no host');
  const unknown = [...parsed.searchParams.keys()].filter((key) => key !== 'requireTLS');
  if (unknown.length > 0) throw new Error(`SMTP_URL: unsupported parameter(s) ${unknown.join(', ')} (only requireTLS)`);
  const requireTLS = parsed.searchParams.get('requireTLS');
  if (requireTLS !== null && requireTLS !== 'true' && requireTLS !== 'false') throw new Error('SMTP_URL: requireTLS must be true or false');
  const secure = parsed.protocol === 'smtps:';
  const user = decodeURIComponent(parsed.username);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    // STARTTLS only "when offered" lets anyone on the path strip the offer and read the password
    // and every code: required unless asked otherwise, or the server is this machine (a relay).
    requireTLS: secure ? false : requireTLS === null ? !LOOPBACK.has(host.toLowerCase()) : requireTLS === 'true',
    ...(user ? { auth: { user, pass: decodeURIComponent(parsed.password) } } : {}),
  };
};

export const createSmtpSender = (options: SmtpSenderOptions): MessageSender => {
  if (!options.from) throw new Error('SMTP: a sender address (EMAIL_ADDRESS) is required');
  // Read as the configuration read it, and given to nodemailer as name and address apart: from
  // the text, its own parser would read some names otherwise (a comment, a group, a second address).
  const from = parseEmailSender(options.from);
  if (from === undefined) throw new Error('SMTP: EMAIL_ADDRESS must be an email address, or a name and one as Name <address>');
  const endpoint = parseSmtpUrl(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = createTransport({
    ...endpoint,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
    debug: false,
  });

  return async (message) => {
    const hint = destinationHint(message);
    if (message.channel !== 'EMAIL') throw refusedLocally(PROVIDER, `cannot send ${message.channel} messages`);
    try {
      // The per-step timeouts alone let a server answering each of a message's seven steps
      // just in time hold one send for several times DELIVERY_TIMEOUT_MS, past the delivery
      // lease, when another attempt may send the code again. Aborting closes the connection.
      await transport.sendMail({
        signal: AbortSignal.timeout(timeoutMs),
        from: from.name === undefined ? from.address : { name: from.name, address: from.address },
        to: message.to,
        ...(message.subject === undefined ? {} : { subject: message.subject }),
        text: message.body,
        ...(message.html === undefined ? {} : { html: message.html }),
      });
    } catch (error) {
      throw classify(error, hint);
    }
  };
};

// The reply code decides (5xx permanent, 4xx transient); without one it is the connection,
// except for failures no retry can fix (TLS, authentication, configuration).
const classify = (error: unknown, hint: string) => {
  const responseCode = typeof error === 'object' && error !== null ? (error as { responseCode?: unknown }).responseCode : undefined;
  if (typeof responseCode === 'number' && responseCode >= 400 && responseCode < 600) {
    return deliveryFailure({ provider: PROVIDER, permanent: responseCode >= 500, detail: `SMTP ${responseCode}`, hint });
  }
  // The message's deadline (the signal given to sendMail) is the only abort there is.
  const raw = errorCode(error);
  const code = raw === 'EABORT' ? 'ETIMEDOUT' : raw;
  if (code !== undefined && PERMANENT_CODES.has(code)) return deliveryFailure({ provider: PROVIDER, permanent: true, detail: safeToken(code), hint });
  return unreachable(PROVIDER, code, hint);
};

const PERMANENT_CODES = new Set(['ETLS', 'EREQUIRETLS', 'EAUTH', 'ENOAUTH', 'EOAUTH2', 'ECONFIG', 'EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS']);
