/**
 * A stand-in for Twilio's Messages API (POST /2010-04-01/Accounts/{Sid}/Messages.json) on
 * loopback. It checks each request as Twilio does (Basic auth, form encoding, fields) and
 * answers with Twilio's JSON bodies; tests can script the next answers. A message accepted with
 * a StatusCallback can be reported on later (`report`), as Twilio calls back: a signed form
 * POST to that URL.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type TwilioRequest = {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** Form fields as sent, e.g. { To, From, Body }. */
  readonly form: Record<string, string>;
};

/**
 * A scripted answer: a status with Twilio's error code and headers; 'hang' (never answer);
 * 'trickle' (headers at once, then a byte of the body every 100 ms, never ending); or `hold`
 * (answer only once the promise settles: accept the message, or refuse it as `then` says).
 */
type TwilioRefusal = { readonly status: number; readonly code?: number; readonly headers?: Record<string, string> };
/** Accepted (201) but created already failed, as Twilio can answer: the resource's status and error_code. */
type TwilioCreatedFailed = { readonly created: 'failed' | 'undelivered'; readonly code?: number };
export type TwilioReply = TwilioRefusal | TwilioCreatedFailed | 'hang' | 'trickle' | { readonly hold: Promise<unknown>; readonly then?: TwilioRefusal };

/** A status callback as the fake made it, and what the service answered. */
export type TwilioCallback = { readonly url: string; readonly form: Record<string, string>; readonly status: number };

export type FakeTwilio = {
  readonly url: string;
  readonly requests: TwilioRequest[];
  /** Messages accepted (201). */
  readonly sent: { sid: string; form: Record<string, string> }[];
  readonly script: (...replies: TwilioReply[]) => void;
  /**
   * Calls back the StatusCallback of accepted message `sid` with `status` (and `ErrorCode` for
   * failed and undelivered), signed as Twilio signs. `reach` maps the registered URL to the
   * address the call goes to (a proxy in front of the service); `signWith` another token forges.
   */
  readonly report: (sid: string, status: string, options?: { errorCode?: number; reach?: (url: string) => string; signWith?: string }) => Promise<TwilioCallback>;
  readonly callbacks: TwilioCallback[];
  /** Ends every request left unanswered ('hang', 'lost') by dropping its connection, as a provider that vanished would. */
  readonly dropUnanswered: () => void;
  readonly close: () => Promise<void>;
};

/**
 * X-Twilio-Signature as Twilio documents it ("Validating signatures from Twilio"): the full URL
 * Twilio called, then each POST field's name and value, sorted by name, appended to it;
 * HMAC-SHA1 of that under the auth token; base64. Written from the documentation, apart from
 * the SDK the service checks with.
 */
export const twilioSignature = (authToken: string, url: string, form: Record<string, string>): string => {
  const data = Object.keys(form)
    .sort()
    .reduce((text, key) => text + key + form[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
};

const ERRORS: Record<number, string> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'An internal server error has occurred',
  20503: 'Service unavailable',
  21211: "The 'To' number is not a valid phone number.",
  21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
  21602: 'Message body is required.',
  21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
  21604: "A 'To' phone number is required.",
  21609: 'Invalid StatusCallback.',
  21656: 'The ContentVariables Parameter is invalid.',
  90007: 'Invalid validity period value',
};

const E164 = /^\+[1-9]\d{6,14}$/;
const hex32 = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

const send = (response: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) =>
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'twilio-request-id': hex32('RQ'), ...headers }).end(JSON.stringify(payload));

// Like Twilio, messages about an address quote it: the sender must not pass them on.
const describe = (code: number, form: Record<string, string>) =>
  code === 21211 ? `The 'To' number ${form['To'] ?? ''} is not a valid phone number.` : (ERRORS[code] ?? 'Error');

const fail = (response: ServerResponse, status: number, code: number, form: Record<string, string>, headers?: Record<string, string>) =>
  send(response, status, { code, message: describe(code, form), more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);

// An address is E.164, or whatsapp:E.164 for WhatsApp (the prefix once, on both sides).
const address = (value: string | undefined, whatsapp: boolean) =>
  value !== undefined && (whatsapp ? value.startsWith('whatsapp:') && E164.test(value.slice(9)) : E164.test(value));

/** What Twilio refuses synchronously; null when the request is acceptable. */
const check = (request: TwilioRequest, sid: string, token: string): [number, number] | null => {
  if (request.method !== 'POST' || request.path !== `/2010-04-01/Accounts/${sid}/Messages.json`) return [404, 20404];
  if (request.headers.authorization !== `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`) return [401, 20003];
  if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') return [400, 21602];
  if (!/^twilio-node\/\d+\.\d+\.\d+/.test(String(request.headers['user-agent']))) return [400, 21602];
  const { To, From, MessagingServiceSid, Body, ContentSid, ContentVariables, StatusCallback, ValidityPeriod } = request.form;
  const whatsapp = To?.startsWith('whatsapp:') ?? false;
  if (To === undefined) return [400, 21604];
  if (!address(To, whatsapp)) return [400, 21211];
  if (From === undefined && MessagingServiceSid === undefined) return [400, 21603];
  if (From !== undefined && !address(From, whatsapp)) return [400, 21212];
  if (MessagingServiceSid !== undefined && !/^MG[0-9a-f]{32}$/.test(MessagingServiceSid)) return [400, 21603];
  if (Body === undefined && ContentSid === undefined) return [400, 21602];
  if (ContentSid !== undefined && !/^HX[0-9a-f]{32}$/.test(ContentSid)) return [400, 21656];
  // Whole seconds from 1 to 36,000 (Twilio's error 90007).
  if (ValidityPeriod !== undefined && !(/^[1-9][0-9]*$/.test(ValidityPeriod) && Number(ValidityPeriod) <= 36_000)) return [400, 90007];
  if (StatusCallback !== undefined && !(URL.canParse(StatusCallback) && /^https?:$/.test(new URL(StatusCallback).protocol))) return [400, 21609];
  if (ContentVariables !== undefined) {
    try {
      const variables: unknown = JSON.parse(ContentVariables);
      if (typeof variables !== 'object' || variables === null || Object.values(variables).some((v) => typeof v !== 'string')) return [400, 21656];
    } catch {
      return [400, 21656];
    }
  }
  return null;
};

const readForm = async (request: IncomingMessage): Promise<Record<string, string>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const form: Record<string, string> = {};
  for (const [key, value] of params) {
    // Twilio takes each of these fields once; a repeat is a client bug worth failing on.
    if (key in form) throw new Error(`field ${key} sent twice`);
    form[key] = value;
  }
  return form;
};

const messageResource = (sid: string, accountSid: string, form: Record<string, string>) => ({
  account_sid: accountSid,
  api_version: '2010-04-01',
  body: form['Body'] ?? '',
  date_created: new Date().toUTCString(),
  date_sent: null,
  date_updated: new Date().toUTCString(),
  direction: 'outbound-api',
  error_code: null,
  error_message: null,
  from: form['From'] ?? null,
  messaging_service_sid: form['MessagingServiceSid'] ?? null,
  num_media: '0',
  num_segments: '1',
  price: null,
  price_unit: 'USD',
  sid,
  status: 'queued',
  subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
  to: form['To'],
  uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
});

export const startFakeTwilio = async (options: { accountSid: string; authToken: string }): Promise<FakeTwilio> => {
  const requests: TwilioRequest[] = [];
  const sent: FakeTwilio['sent'] = [];
  const replies: TwilioReply[] = [];
  const callbacks: TwilioCallback[] = [];

  const report: FakeTwilio['report'] = async (sid, status, { errorCode, reach = (url: string) => url, signWith = options.authToken } = {}) => {
    const message = sent.find((m) => m.sid === sid);
    const url = message?.form['StatusCallback'];
    if (!message || url === undefined) throw new Error(`message ${sid} was not accepted with a StatusCallback`);
    const whatsapp = message.form['To']?.startsWith('whatsapp:') ?? false;
    // The fields of a Messaging status callback; ErrorCode only with failed and undelivered.
    const form: Record<string, string> = {
      ApiVersion: '2010-04-01',
      AccountSid: options.accountSid,
      MessageSid: sid,
      SmsSid: sid,
      MessageStatus: status,
      SmsStatus: status,
      To: message.form['To'] ?? '',
      From: message.form['From'] ?? '',
      ...(whatsapp ? { ChannelPrefix: 'whatsapp', ChannelToAddress: (message.form['To'] ?? '').slice(9) } : {}),
      ...(errorCode !== undefined && (status === 'failed' || status === 'undelivered') ? { ErrorCode: String(errorCode) } : {}),
    };
    const response = await fetch(reach(url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'TwilioProxy/1.1',
        'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
        'x-twilio-signature': twilioSignature(signWith, url, form),
      },
      body: new URLSearchParams(form).toString(),
    });
    await response.arrayBuffer();
    const callback = { url, form, status: response.status };
    callbacks.push(callback);
    return callback;
  };

  const unanswered = new Set<ServerResponse>();
  const server = createServer((incoming, response) => {
    readForm(incoming)
      .then((form) => {
        const request = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, form };
        requests.push(request);
        const refused = check(request, options.accountSid, options.authToken);
        if (refused) return fail(response, refused[0], refused[1], form);
        const reply = replies.shift();
        if (reply === 'hang') return void unanswered.add(response);
        if (reply === 'trickle') {
          unanswered.add(response);
          response.writeHead(201, { 'content-type': 'application/json' });
          const drip = setInterval(() => response.write(' '), 100);
          response.on('close', () => clearInterval(drip));
          return;
        }
        const accept = (failed?: TwilioCreatedFailed) => {
          const sid = hex32('SM');
          sent.push({ sid, form });
          const resource = messageResource(sid, options.accountSid, form);
          send(response, 201, failed ? { ...resource, status: failed.created, error_code: failed.code ?? null } : resource);
        };
        const refuse = (refusal: TwilioRefusal) =>
          fail(response, refusal.status, refusal.code ?? (refusal.status === 401 ? 20003 : 20000 + refusal.status), form, refusal.headers);
        if (reply && 'hold' in reply) {
          const answer = () => (reply.then ? refuse(reply.then) : accept());
          return void reply.hold.then(answer, answer);
        }
        if (reply && 'created' in reply) return accept(reply);
        if (reply) return refuse(reply);
        return accept();
      })
      .catch(() => fail(response, 400, 21602, {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sent,
    script: (...next) => void replies.push(...next),
    report,
    callbacks,
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
