/**
 * A stand-in for Resend's API (POST /emails) on loopback. It checks each request the way the
 * real API does and answers with Resend's own error bodies; tests can script the next answers.
 * It keeps Idempotency-Key as Resend documents it: a key an email was sent under answers a
 * request with the same body with the first answer (sending nothing), one with another body
 * 409 invalid_idempotent_request, and one while the first request is under way 409
 * concurrent_idempotent_requests; a key must be 1 to 256 characters (400 invalid_idempotency_key).
 * Tags are checked as Resend documents them (name and value: ASCII letters, digits, _ and -, at
 * most 256 characters). An accepted email can be reported on later (`report`), as Resend's
 * webhooks call: a JSON event carrying the email's tags, signed per Standard Webhooks as Svix
 * signs it (svix-id, svix-timestamp, svix-signature), independently of the SDK the service checks with.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ResendRequest = {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
};

/**
 * A scripted answer: a status, Resend's error name, extra headers, and the error body when it is
 * not the usual {statusCode, message, name} (Resend's bodies may lack statusCode); 'hang' (never answer);
 * 'lost' (send the email, but never answer: the answer is lost on the way); or `hold` (send the
 * email, but only answer once the promise settles).
 */
export type ResendReply =
  | { readonly status: number; readonly name?: string; readonly headers?: Record<string, string>; readonly body?: Record<string, unknown> }
  | 'hang'
  | 'lost'
  | { readonly hold: Promise<unknown> };

export type FakeResend = {
  readonly url: string;
  /** Every request received, accepted or not. */
  readonly requests: ResendRequest[];
  /** Emails accepted (200), with the id the fake answered. */
  readonly sent: { id: string; body: Record<string, unknown> }[];
  /** Answers the next requests with these replies, in order, after checking them. */
  readonly script: (...replies: ResendReply[]) => void;
  /** Calls a webhook endpoint about an accepted email, as Resend does: the answer the service gave. */
  readonly report: (emailId: string, type: string, options: ResendReportOptions) => Promise<{ status: number; body: string }>;
  /** Ends every request left unanswered ('hang', 'lost') by dropping its connection, as a provider that vanished would. */
  readonly dropUnanswered: () => void;
  readonly close: () => Promise<void>;
};

export type ResendReportOptions = {
  /** The endpoint Resend calls (the service's /api/webhooks/resend). */
  readonly url: string;
  /** The endpoint's signing secret (whsec_...). */
  readonly secret: string;
  /** The event's own fields (bounce, suppressed, failed), beside those of the email. */
  readonly extra?: Record<string, unknown>;
  /** Seconds since the epoch the call is signed at; now by default. */
  readonly timestamp?: number;
  /** Signs with this secret instead (a forgery); or leaves the signature out. */
  readonly signWith?: string | 'unsigned';
};

/** Standard Webhooks' v1 signature: HMAC-SHA256, under the secret's base64 bytes, of "id.timestamp.body". */
export const resendSignature = (secret: string, id: string, timestamp: number, body: string): string =>
  `v1,${createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64')}`;

const TAG = /^[A-Za-z0-9_-]{1,256}$/;

const MESSAGES: Record<string, string> = {
  missing_api_key: 'Missing API key in the authorization header.',
  invalid_api_key: 'API key is invalid',
  invalid_idempotency_key: 'The key must be between 1-256 chars.',
  invalid_idempotent_request: 'Same idempotency key used with a different request payload.',
  concurrent_idempotent_requests: 'Same idempotency key used while original request is still in progress.',
  validation_error: 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
  missing_required_field: 'Missing `to` field.',
  rate_limit_exceeded: 'Too many requests. You can only make 2 requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.',
  daily_quota_exceeded: 'You have reached your daily email sending quota.',
  application_error: 'An unexpected error occurred.',
  internal_server_error: 'An unexpected error occurred.',
};

const ADDRESS = /^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/;

const answer = (response: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) =>
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));

const error = (response: ServerResponse, status: number, name: string, headers?: Record<string, string>) =>
  answer(response, status, { statusCode: status, message: MESSAGES[name] ?? name, name }, headers);

/** What the real API refuses before sending; null when the request is acceptable. */
const check = (request: ResendRequest, apiKey: string): [number, string] | null => {
  if (request.method !== 'POST' || request.path !== '/emails') return [404, 'not_found'];
  const authorization = request.headers.authorization;
  if (!authorization) return [401, 'missing_api_key'];
  if (authorization !== `Bearer ${apiKey}`) return [403, 'invalid_api_key'];
  if (!String(request.headers['content-type']).startsWith('application/json')) return [422, 'validation_error'];
  if (!/^resend-node:\d+\.\d+\.\d+/.test(String(request.headers['user-agent']))) return [422, 'validation_error'];
  const { from, to, subject, html, text } = request.body;
  if (from === undefined || to === undefined || subject === undefined) return [422, 'missing_required_field'];
  const recipients = Array.isArray(to) ? to : [to];
  if (typeof from !== 'string' || !ADDRESS.test(from)) return [422, 'validation_error'];
  if (recipients.length === 0 || recipients.length > 50 || !recipients.every((r) => typeof r === 'string' && ADDRESS.test(r))) return [422, 'validation_error'];
  if (typeof subject !== 'string' || (html === undefined && text === undefined)) return [422, 'validation_error'];
  if ((html !== undefined && typeof html !== 'string') || (text !== undefined && typeof text !== 'string')) return [422, 'validation_error'];
  const { tags } = request.body;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((tag: { name?: unknown; value?: unknown }) => TAG.test(String(tag?.name)) && TAG.test(String(tag?.value)))))
    return [422, 'validation_error'];
  return null;
};

const readJson = async (request: IncomingMessage): Promise<Record<string, unknown> | null> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

/**
 * `ratePerSecond`: refuse requests past that many in any second (429 rate_limit_exceeded, as
 * Resend does past an account's rate). The window is 900 ms, not 1,000, so that requests paced
 * to the rate are not refused for a few milliseconds of network jitter.
 */
export const startFakeResend = async (options: { apiKey: string; ratePerSecond?: number }): Promise<FakeResend> => {
  const requests: ResendRequest[] = [];
  const arrivals: number[] = [];
  const sent: FakeResend['sent'] = [];
  const replies: ResendReply[] = [];
  /** Idempotency keys: the body and id of the email sent under each, or 'in progress'. */
  const keys = new Map<string, { readonly body: string; readonly id: string } | 'in progress'>();

  const unanswered = new Set<ServerResponse>();
  const server = createServer((incoming, response) => {
    void readJson(incoming).then((body) => {
      const request = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body: body ?? {} };
      requests.push(request);
      if (body === null) return error(response, 422, 'validation_error');
      const refused = check(request, options.apiKey);
      if (refused) return error(response, refused[0], refused[1]);
      if (options.ratePerSecond !== undefined) {
        const now = performance.now();
        arrivals.push(now);
        while (arrivals.length > 0 && arrivals[0]! <= now - 900) arrivals.shift();
        if (arrivals.length > options.ratePerSecond) return error(response, 429, 'rate_limit_exceeded', { 'retry-after': '1', 'ratelimit-limit': String(options.ratePerSecond), 'ratelimit-remaining': '0' });
      }
      const key = incoming.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 256)) return error(response, 400, 'invalid_idempotency_key');
      const known = key === undefined ? undefined : keys.get(key);
      if (known === 'in progress') return error(response, 409, 'concurrent_idempotent_requests');
      if (known) return known.body === JSON.stringify(body) ? answer(response, 200, { id: known.id }) : error(response, 409, 'invalid_idempotent_request');
      const reply = replies.shift();
      if (reply === 'hang') return void unanswered.add(response);
      const send = () => {
        const id = randomUUID();
        sent.push({ id, body });
        if (key !== undefined) keys.set(key, { body: JSON.stringify(body), id });
        return id;
      };
      const accept = () => answer(response, 200, { id: send() }, { 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '1' });
      if (reply === 'lost') return void (send(), unanswered.add(response));
      if (reply && 'hold' in reply) {
        if (key !== undefined) keys.set(key, 'in progress');
        return void reply.hold.then(accept, accept);
      }
      if (reply && reply.status !== 200 && reply.body !== undefined) return answer(response, reply.status, reply.body, reply.headers);
      if (reply && reply.status !== 200) return error(response, reply.status, reply.name ?? 'application_error', reply.headers);
      return accept();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sent,
    script: (...next) => void replies.push(...next),
    report: async (emailId, type, { url, secret, extra = {}, timestamp = Math.floor(Date.now() / 1000), signWith }) => {
      const email = sent.find((entry) => entry.id === emailId);
      if (!email) throw new Error(`the fake Resend sent no email ${emailId}`);
      const { from, to, subject, tags } = email.body as { from: string; to: string[]; subject: string; tags?: { name: string; value: string }[] };
      const created = new Date(timestamp * 1000).toISOString();
      const body = JSON.stringify({
        type,
        created_at: created,
        data: {
          created_at: created,
          email_id: emailId,
          message_id: `<${emailId}@email.amazonses.com>`,
          from,
          to,
          subject,
          ...(tags ? { tags: Object.fromEntries(tags.map((tag) => [tag.name, tag.value])) } : {}),
          ...extra,
        },
      });
      const id = `msg_${randomUUID().replace(/-/g, '')}`;
      const signed: Record<string, string> = signWith === 'unsigned' ? {} : { 'svix-signature': resendSignature(signWith ?? secret, id, timestamp, body) };
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(timestamp), ...signed }, body });
      return { status: response.status, body: await response.text() };
    },
    dropUnanswered: () => {
      for (const response of unanswered) response.destroy();
      unanswered.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((failure) => (failure ? reject(failure) : resolve()));
      }),
  };
};
