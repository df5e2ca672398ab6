/**
 * No secret reaches the exported telemetry, metrics included, while the providers fail.
 *
 * Two real service processes, started as in production (`node --import register.js main.js`,
 * service-process.ts) with OTEL_EXPORTER_OTLP_ENDPOINT and a short OTEL_METRIC_EXPORT_INTERVAL,
 * export traces AND metrics (OTLP/HTTP, JSON: both exporters send application/json, which the
 * receiver here insists on) to a receiver this test runs, which keeps every export body:
 *
 * - A: email through Resend, SMS and WhatsApp through Twilio, with Twilio's status callbacks
 *   (PUBLIC_URL) and Resend's webhooks (RESEND_WEBHOOK_SECRET). The SDKs cannot be pointed
 *   anywhere by the environment, so a preload (NODE_OPTIONS=--import, a data: URL built below)
 *   sends what they would send to api.resend.com and api.twilio.com to a front on loopback;
 *   nothing else of the process changes. The front answers per destination: passes the
 *   request on to the repository's fake Resend or Twilio (support/fake-*.ts), or fails it
 *   itself: 4xx and 5xx whose bodies echo the whole request (code, destination, Authorization
 *   header), HTML 502 echoing it, 429 with Retry-After, numeric fields holding the code,
 *   no answer (timeout), a reset connection, and (the listener closed) connection refused.
 * - B: email through SMTP (SMTP_URL) to the fake SMTP server behind a TCP proxy here that
 *   records every byte (so codes are known even when refused) and can stay silent (timeout)
 *   or be closed (connection refused); the fake refuses stages with replies echoing the
 *   address and the user.
 *
 * A also runs every other flow that handles a secret: operator sign-up and logins (and a wrong
 * password) with JWT use and logout, an app with its API key and a rotation, TOTP enrollment
 * (seed, otpauth URI, QR code), activation and verification (and a wrong code), recovery codes
 * (one used, a new set), an SMS enrollment, a code exported by POST /api/code/generate.
 *
 * Every exported span (name, attributes, events, links, status, resource, scope), every metric
 * (name, description, unit, point attributes, exemplars, resource attributes, scope), every
 * export body as sent, every log line (stdout and stderr) and every error answer is then
 * searched for every secret seen or sent, in the forms a careless attribute would hold it:
 * as given, URL-, form- and JSON-encoded, base64, hex, unkeyed digests, the code without its
 * leading zeros. Codes are 10 digits and TOTP codes 8, matched as whole digit runs, so none is
 * found by chance inside a timestamp. The test also checks that metrics were exported (each
 * provider's sent, transient and permanent calls, reports, receipts, complaints, requests by
 * route) and that each provider really failed in each way (the front's and proxy's records,
 * the reasons the service logged).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createConnection, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  codeIn,
  resendApiKey,
  twilioAccountSid,
  twilioAuthToken,
  twilioCode,
  twilioPhoneNumber,
  twilioWhatsappContentSid,
  twilioWhatsappNumber,
} from '../support/delivery.js';
import { startFakeResend, type FakeResend } from '../support/fake-resend.js';
import { parseMime, startFakeSmtp, type FakeSmtp } from '../support/fake-smtp.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';
import { totpAt, type TotpParams } from '../support/flows.js';
import { createClient, type Client, type RequestOptions } from '../support/http-client.js';
import { phoneNeedles, seedNeedles, type Haystack, type Needle } from '../support/leaks.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { testRedisUrl } from '../support/redis.js';
import { compileService, deploymentSecrets, startServiceProcess, stopAllServiceProcesses, tempDir, type ServiceProcess } from '../support/service-process.js';
import { testBackend } from '../support/test-server.js';

const totpParams: TotpParams = { digits: 8, period: 30, algorithm: 'SHA1' };
// Ten-digit codes, no cooldown, caps out of the way: every send below is its own recipient.
const policy = {
  code_length: 10,
  resend_cooldown_seconds: 0,
  max_sends_per_recipient_per_hour: 1000,
  max_sends_per_number_block_per_hour: 100000,
  allow_code_export: true,
  totp: { digits: 8 },
};
const DELIVERY_TIMEOUT_MS = 1000;

// ------------------------------------------------------------------------------ loopback ports

/** The ports this test may use: 8201-8299 (the fakes of support/ pick their own). */
const FIRST_PORT = 8201;
const PORT_COUNT = 99;
let portCursor = randomInt(0, PORT_COUNT);

/** Listens on `fixed`, or on the first free port of the range. */
const listenInRange = async (server: NetServer | HttpServer, fixed?: number): Promise<number> => {
  for (let tries = 0; tries < PORT_COUNT; tries++) {
    const port = fixed ?? FIRST_PORT + (portCursor++ % PORT_COUNT);
    const listening = await new Promise<boolean>((resolve) => {
      const onError = () => (server.removeListener('listening', onListening), resolve(false));
      const onListening = () => (server.removeListener('error', onError), resolve(true));
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, '127.0.0.1');
    });
    if (listening) return port;
    if (fixed !== undefined) throw new Error(`port ${fixed} is taken`);
  }
  throw new Error(`no free port in ${FIRST_PORT}-${FIRST_PORT + PORT_COUNT - 1}`);
};

const closeServer = (server: NetServer | HttpServer) => new Promise<void>((resolve) => server.close(() => resolve()));

const portInRange = async (): Promise<number> => {
  const probe = createNetServer();
  const port = await listenInRange(probe);
  await closeServer(probe);
  return port;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const readRaw = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

// ------------------------------------------------------------------------------ OTLP receiver

type OtlpExport = { readonly signal: 'traces' | 'metrics'; readonly text: string; readonly json: any };

/** Keeps every export request as sent; anything but OTLP/HTTP JSON is recorded as a problem. */
const startReceiver = async () => {
  const exports: OtlpExport[] = [];
  const problems: string[] = [];
  const server = createHttpServer((request, response) => {
    const signal = request.method === 'POST' ? ({ '/v1/traces': 'traces', '/v1/metrics': 'metrics' } as const)[request.url ?? ''] : undefined;
    void readRaw(request).then((raw) => {
      const contentType = String(request.headers['content-type'] ?? '');
      if (!signal || !contentType.startsWith('application/json')) {
        problems.push(`${request.method} ${request.url} ${contentType}`);
        return void response.writeHead(signal ? 415 : 404).end();
      }
      const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      exports.push({ signal, text, json: JSON.parse(text) });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await listenInRange(server);
  return { url: `http://127.0.0.1:${port}`, exports, problems, close: () => (server.closeAllConnections(), closeServer(server)) };
};

// ------------------------------------------------------------------------------ OTLP decoding

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number; bytesValue?: string; arrayValue?: { values?: AnyValue[] }; kvlistValue?: { values?: KeyValue[] } };
type KeyValue = { key: string; value?: AnyValue };

/** An attribute value as a reader sees it; bytes in every encoding they could be read in. */
const toValue = (value: AnyValue | undefined): unknown => {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) {
    const bytes = Buffer.from(value.bytesValue, 'base64');
    return { base64: value.bytesValue, utf8: bytes.toString('utf8'), hex: bytes.toString('hex') };
  }
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(toValue);
  if (value.kvlistValue) return Object.fromEntries((value.kvlistValue.values ?? []).map(({ key, value: v }) => [key, toValue(v)]));
  return undefined;
};
const toAttributes = (list: KeyValue[] | undefined): Record<string, unknown> => Object.fromEntries((list ?? []).map(({ key, value }) => [key, toValue(value)]));
/** Keys are searched too: an attribute named after a secret leaks it as well as one holding it. */
const attributesText = (list: KeyValue[] | undefined) => JSON.stringify(toAttributes(list));

const METRIC_KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;

type Point = { readonly service: unknown; readonly metric: string; readonly attributes: Record<string, unknown>; readonly value: number };

/** Every place of a metrics export a value could be written to. */
const metricHaystacks = (json: any, label: string): Haystack[] =>
  (json.resourceMetrics ?? []).flatMap((rm: any, r: number) => {
    const at = `${label} resource #${r}`;
    return [
      { where: `${at} attributes`, text: attributesText(rm.resource?.attributes) },
      { where: `${at} schema url`, text: String(rm.schemaUrl ?? '') },
      ...(rm.scopeMetrics ?? []).flatMap((sm: any, s: number) => [
        { where: `${at} scope #${s}`, text: JSON.stringify({ name: sm.scope?.name, version: sm.scope?.version, attributes: toAttributes(sm.scope?.attributes), schemaUrl: sm.schemaUrl }) },
        ...(sm.metrics ?? []).flatMap((metric: any) => {
          const m = `${at} metric "${metric.name}"`;
          return [
            { where: `${m} name`, text: String(metric.name ?? '') },
            { where: `${m} description and unit`, text: `${metric.description ?? ''}\n${metric.unit ?? ''}` },
            { where: `${m} metadata`, text: attributesText(metric.metadata) },
            ...METRIC_KINDS.flatMap((kind) =>
              (metric[kind]?.dataPoints ?? []).flatMap((point: any, p: number) => [
                { where: `${m} point #${p} attributes`, text: attributesText(point.attributes) },
                ...(point.exemplars ?? []).map((exemplar: any, e: number) => ({ where: `${m} point #${p} exemplar #${e}`, text: attributesText(exemplar.filteredAttributes) })),
              ]),
            ),
          ];
        }),
      ]),
    ];
  });

const metricPoints = (json: any): Point[] =>
  (json.resourceMetrics ?? []).flatMap((rm: any) => {
    const service = toAttributes(rm.resource?.attributes)['service.name'];
    return (rm.scopeMetrics ?? []).flatMap((sm: any) =>
      (sm.metrics ?? []).flatMap((metric: any) =>
        METRIC_KINDS.flatMap((kind) =>
          (metric[kind]?.dataPoints ?? []).map((point: any) => ({
            service,
            metric: metric.name,
            attributes: toAttributes(point.attributes),
            value: Number(point.count ?? point.asInt ?? point.asDouble ?? 0),
          })),
        ),
      ),
    );
  });

/** Every place of a traces export a value could be written to. */
const spanHaystacks = (json: any, label: string): Haystack[] =>
  (json.resourceSpans ?? []).flatMap((rs: any, r: number) => [
    { where: `${label} resource #${r} attributes`, text: attributesText(rs.resource?.attributes) },
    ...(rs.scopeSpans ?? []).flatMap((ss: any, s: number) => [
      { where: `${label} resource #${r} scope #${s}`, text: JSON.stringify({ name: ss.scope?.name, version: ss.scope?.version, attributes: toAttributes(ss.scope?.attributes) }) },
      ...(ss.spans ?? []).flatMap((span: any, i: number) => {
        const at = `${label} span #${i} "${span.name}" (${ss.scope?.name ?? 'no scope'})`;
        return [
          { where: `${at} name`, text: String(span.name ?? '') },
          { where: `${at} attributes`, text: attributesText(span.attributes) },
          ...(span.events ?? []).flatMap((event: any, e: number) => [
            { where: `${at} event #${e} name`, text: String(event.name ?? '') },
            { where: `${at} event #${e} "${event.name}" attributes`, text: attributesText(event.attributes) },
          ]),
          ...(span.links ?? []).map((link: any, l: number) => ({ where: `${at} link #${l}`, text: `${link.traceState ?? ''} ${attributesText(link.attributes)}` })),
          { where: `${at} status message`, text: String(span.status?.message ?? '') },
          { where: `${at} trace state`, text: String(span.traceState ?? '') },
        ];
      }),
    ]),
  ]);

type Span = { readonly name: string; readonly kind: number; readonly attributes: Record<string, unknown>; readonly service: unknown };
const spansOf = (json: any): Span[] =>
  (json.resourceSpans ?? []).flatMap((rs: any) => {
    const service = toAttributes(rs.resource?.attributes)['service.name'];
    return (rs.scopeSpans ?? []).flatMap((ss: any) => (ss.spans ?? []).map((span: any) => ({ name: span.name, kind: span.kind ?? 0, attributes: toAttributes(span.attributes), service })));
  });

// ------------------------------------------------------------------------------ the search

/**
 * Digit-only needles (codes, numbers) match only as a whole run of digits, so a ten-digit code
 * is not "found" inside a nanosecond timestamp by chance; it is found next to letters or
 * punctuation ("otp=0123456789", "code0123456789"). Anything else matches as a substring.
 */
const matcher = (needle: Needle): ((text: string) => boolean) => {
  if (!/^[0-9]+$/.test(needle.value)) return (text) => text.includes(needle.value);
  const pattern = new RegExp(`(?<![0-9])${needle.value}(?![0-9])`);
  return (text) => pattern.test(text);
};

const findLeaks = (haystacks: readonly Haystack[], needles: readonly Needle[]): string[] => {
  const matchers = needles.map((needle) => ({ needle, test: matcher(needle) }));
  return haystacks.flatMap(({ where, text }) => matchers.filter(({ test }) => test(text)).map(({ needle }) => `${needle.kind} "${needle.value}" in ${where}`));
};

/** A value in the forms a careless attribute, log field or URL might hold it. */
const encodedForms = (needle: Needle): Needle[] => {
  const { kind, value } = needle;
  const forms: Needle[] = [];
  const add = (how: string, form: string) => {
    if (form !== value && form.length >= 8 && !forms.some((f) => f.value === form)) forms.push({ kind: `${kind} (${how})`, value: form });
  };
  add('URL-encoded', encodeURIComponent(value));
  add('form-encoded', new URLSearchParams({ v: value }).toString().slice(2));
  add('JSON-escaped', JSON.stringify(value).slice(1, -1));
  add('base64', Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, ''));
  add('hex', Buffer.from(value, 'utf8').toString('hex'));
  if (/^[0-9]+$/.test(value)) add('without leading zeros', value.replace(/^0+/, ''));
  for (const algorithm of ['sha256', 'sha1', 'md5'] as const) {
    const digest = createHash(algorithm).update(value, 'utf8').digest();
    add(`${algorithm} hex`, digest.toString('hex'));
    add(`${algorithm} base64`, digest.toString('base64').replace(/=+$/, ''));
    add(`${algorithm} base64url`, digest.toString('base64url'));
  }
  return forms;
};


// ------------------------------------------------------------------------------ provider fronts

/**
 * How the front answers one request: passed on to the fake; 4xx or 5xx with a JSON body
 * echoing the request and its Authorization header; a 400 whose numeric fields hold the code;
 * an HTML 502 echoing the request; 429 with Retry-After; no answer; the connection reset.
 */
type Mode = 'pass' | 'echo-4xx' | 'echo-fields' | 'echo-5xx' | 'echo-html' | 'throttle' | 'hang' | 'reset';

type FrontRequest = { readonly to: string; readonly mode: Mode; readonly code: string | undefined; readonly raw: string };

/**
 * What the SDK sends to api.resend.com or api.twilio.com lands here (the preload redirects it):
 * each request is answered as the plan for its destination says (one mode per request, then
 * 'pass'). `closeListener` refuses connections until `openListener`, on the same port.
 */
const startFront = async (provider: 'resend' | 'twilio', upstream: () => string) => {
  const plans = new Map<string, Mode[]>();
  const requests: FrontRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const destinationOf = (raw: string): string => {
    if (provider === 'twilio') return new URLSearchParams(raw).get('To') ?? '';
    const to = (JSON.parse(raw) as { to?: unknown }).to;
    return String(Array.isArray(to) ? to[0] : to);
  };
  const codeOf = (raw: string): string | undefined => {
    try {
      return provider === 'twilio' ? twilioCode(Object.fromEntries(new URLSearchParams(raw))) : codeIn(String((JSON.parse(raw) as { text?: unknown }).text));
    } catch {
      return undefined;
    }
  };
  const echo = (request: IncomingMessage, raw: string) => ({ request: raw, form: provider === 'twilio' ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(raw), authorization: request.headers.authorization, url: request.url });
  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const raw = (await readRaw(request)).toString('utf8');
    const to = destinationOf(raw);
    const mode = plans.get(to)?.shift() ?? 'pass';
    const code = codeOf(raw);
    requests.push({ to, mode, code, raw });
    const echoed = echo(request, raw);
    const text = `${raw} (authorization: ${request.headers.authorization ?? ''})`;
    switch (mode) {
      case 'pass': {
        const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'content-length', 'connection', 'accept-encoding', 'transfer-encoding'].includes(name))) as Record<string, string>;
        const answer = await fetch(`${upstream()}${request.url ?? ''}`, { method: request.method ?? 'POST', headers, body: raw });
        const kept = Object.fromEntries([...answer.headers].filter(([name]) => !['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)));
        return void response.writeHead(answer.status, kept).end(await answer.text());
      }
      case 'echo-4xx':
        return provider === 'resend'
          ? json(response, 422, { statusCode: 422, name: 'validation_error', message: `Invalid \`to\` field ${to} in ${text}`, ...echoed })
          : json(response, 400, { code: 21211, message: `The 'To' number ${to} is not a valid phone number: ${text}`, more_info: text, status: 400, details: echoed });
      case 'echo-fields':
        // Numbers where a status or an error code belongs: the code's digits.
        return provider === 'resend'
          ? json(response, 400, { statusCode: Number(code), name: code, message: text, ...echoed })
          : json(response, 400, { code: Number(code), message: text, more_info: `https://www.twilio.com/docs/errors/${code}`, status: 400 });
      case 'echo-5xx':
        return provider === 'resend'
          ? json(response, 500, { statusCode: 500, name: 'internal_server_error', message: `An unexpected error occurred: ${text}`, ...echoed })
          : json(response, 500, { code: 20500, message: `An internal server error has occurred: ${text}`, more_info: text, status: 500 });
      case 'echo-html':
        return void response.writeHead(502, { 'content-type': 'text/html' }).end(`<html><body><h1>502 Bad Gateway</h1><pre>${text}</pre></body></html>`);
      case 'throttle':
        return provider === 'resend'
          ? json(response, 429, { statusCode: 429, name: 'rate_limit_exceeded', message: `Too many requests: ${text}` }, { 'retry-after': '1' })
          : json(response, 429, { code: 20429, message: `Too Many Requests: ${text}`, status: 429 }, { 'retry-after': '1' });
      case 'hang':
        return void hanging.add(response);
      case 'reset':
        return void request.socket.destroy();
    }
  };

  const serve = () =>
    createHttpServer((request, response) => {
      handle(request, response).catch(() => response.destroy());
    });
  let server = serve();
  const port = await listenInRange(server);
  const drop = () => {
    for (const response of hanging) response.destroy();
    hanging.clear();
  };
  return {
    provider,
    url: `http://127.0.0.1:${port}`,
    requests,
    plan: (to: string, ...modes: Mode[]) => void plans.set(to, [...modes]),
    closeListener: async () => {
      drop();
      server.closeAllConnections();
      await closeServer(server);
    },
    openListener: async () => {
      server = serve();
      await listenInRange(server, port);
    },
    close: async () => {
      drop();
      server.closeAllConnections();
      await closeServer(server);
    },
  };
};

type Front = Awaited<ReturnType<typeof startFront>>;

/**
 * NODE_OPTIONS for service A: a preload that sends the Resend SDK's fetches and the Twilio
 * SDK's requests to the fronts instead of the real APIs (the path and query as the SDK built
 * them), and changes nothing else.
 */
const redirectingPreload = (resendFront: string, twilioFront: string, root: string): string => {
  const source = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(root, 'package.json'))});
const client = require('twilio').RequestClient.prototype;
const request = client.request;
client.request = function (options) {
  const target = new URL(options.uri);
  if (target.hostname !== 'api.twilio.com') throw new Error('unexpected Twilio host ' + target.hostname);
  return request.call(this, { ...options, uri: ${JSON.stringify(twilioFront)} + target.pathname + target.search });
};
const fetch = globalThis.fetch;
globalThis.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (url.startsWith('https://api.resend.com/')) return fetch.call(this, ${JSON.stringify(resendFront)} + url.slice('https://api.resend.com'.length), init);
  return fetch.call(this, input, init);
};
`;
  return `--import=data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
};

// ------------------------------------------------------------------------------ SMTP proxy

type SmtpConnection = { readonly mode: 'pass' | 'silent'; sent: string };

/** A TCP proxy to the fake SMTP server that keeps what the service sent on each connection. */
const startSmtpProxy = async (target: number) => {
  const connections: SmtpConnection[] = [];
  const plans: ('pass' | 'silent')[] = [];
  const sockets = new Set<Socket>();
  const serve = () =>
    createNetServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => undefined);
      const connection: SmtpConnection = { mode: plans.shift() ?? 'pass', sent: '' };
      connections.push(connection);
      client.on('data', (chunk: Buffer) => void (connection.sent += chunk.toString('latin1')));
      if (connection.mode === 'silent') return; // accepted, never greeted
      const upstream = createConnection({ host: '127.0.0.1', port: target });
      sockets.add(upstream);
      upstream.on('close', () => (sockets.delete(upstream), client.destroy()));
      upstream.on('error', () => undefined);
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
  let server = serve();
  const port = await listenInRange(server);
  const shut = async () => {
    for (const socket of sockets) socket.destroy();
    await closeServer(server);
  };
  return {
    port,
    connections,
    next: (mode: 'pass' | 'silent') => void plans.push(mode),
    closeListener: shut,
    openListener: async () => {
      server = serve();
      await listenInRange(server, port);
    },
    close: shut,
  };
};

/** The code in the message body a connection carried (DATA), if it got that far. */
const smtpCode = (sent: string): string | undefined => {
  const start = sent.indexOf('\r\nDATA\r\n');
  if (start < 0) return undefined;
  const data = sent.slice(start + 8, sent.indexOf('\r\n.\r\n', start) < 0 ? undefined : sent.indexOf('\r\n.\r\n', start));
  const text = parseMime(Buffer.from(data, 'latin1').toString('utf8')).parts.find((part) => /text\/plain/i.test(part.headers['content-type'] ?? ''));
  return text ? codeIn(text.body) : undefined;
};

// ------------------------------------------------------------------------------ the test

type Send = { readonly label: string; readonly channel: 'EMAIL' | 'SMS' | 'WHATSAPP'; readonly to: string; readonly challengeId: string; readonly expect: 'SENT' | 'FAILED' };

describe('no secret in the exported metrics, traces or logs while the providers fail', () => {
  const shared = testBackend() === 'postgres';
  const root = process.cwd();
  const marker = `m${randomBytes(4).toString('hex')}`;
  const serviceA = `otp-verify-leaks-a-${marker}`;
  const serviceB = `otp-verify-leaks-b-${marker}`;

  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let fakeResend: FakeResend;
  let fakeTwilio: FakeTwilio;
  let fakeSmtp: FakeSmtp;
  let resendFront: Front;
  let twilioFront: Front;
  let smtpProxy: Awaited<ReturnType<typeof startSmtpProxy>>;
  const schemas: TestSchema[] = [];
  const dirs: ReturnType<typeof tempDir>[] = [];
  let a: ServiceProcess;
  let b: ServiceProcess;

  /** Every secret seen or sent, before its encoded forms are added. */
  const needles: Needle[] = [];
  /** Ids (tenants, challenges, enrollments) and destinations: never a metric attribute. */
  const identifiers: Needle[] = [];
  const errorAnswers: Haystack[] = [];
  const reasons: Haystack[] = [];
  const sends: Send[] = [];
  /** How each send ended: SENT or FAILED, by challenge id. */
  const finalStatus = new Map<string, string>();
  const smtpSends: { label: string; challengeId: string; to: string; expect: 'SENT' | 'FAILED' }[] = [];
  let exportsSeen: readonly OtlpExport[] = [];

  const secret = (kind: string, value: string) => void needles.push({ kind, value });

  /** A client that keeps every secret any answer shows, and every error answer. */
  const harvesting = (inner: Client): Client => {
    const harvest = (path: string, body: unknown): void => {
      if (Array.isArray(body)) return body.forEach((item) => harvest(path, item));
      if (typeof body !== 'object' || body === null) return;
      for (const [key, value] of Object.entries(body)) {
        if (key === 'secret' && typeof value === 'string') needles.push(...seedNeedles(value));
        else if (key === 'otpauth_uri' && typeof value === 'string') secret('otpauth uri', value);
        else if (key === 'qr_code' && typeof value === 'string') secret('qr code (part of its PNG)', value.slice(-120, -40));
        else if (key === 'api_key' && typeof value === 'string') secret('api key', value);
        else if (key === 'access_token' && typeof value === 'string') (secret('access token', value), secret('access token signature', value.split('.')[2]!));
        else if (key === 'recovery_codes' && Array.isArray(value))
          for (const code of value) (secret('recovery code', String(code)), secret('recovery code (without its dash)', String(code).replace(/-/g, '')));
        else if (key === 'code' && path === '/api/code/generate' && typeof value === 'string') secret('exported code (/api/code/generate)', value);
        else if (key === 'reason' && typeof value === 'string') reasons.push({ where: `delivery reason answered by ${path}`, text: value });
        else if (['id', 'challenge_id', 'enrollment_id'].includes(key) && typeof value === 'string') identifiers.push({ kind: key, value });
        else harvest(path, value);
      }
    };
    const request: Client['request'] = async (method, path, options?: RequestOptions) => {
      const response = await inner.request(method, path, options);
      harvest(path, response.body);
      if (response.status >= 400) errorAnswers.push({ where: `${method} ${path} → ${response.status}`, text: response.text });
      return response;
    };
    return { request, get: (p, o) => request('GET', p, o), post: (p, o) => request('POST', p, o), put: (p, o) => request('PUT', p, o), delete: (p, o) => request('DELETE', p, o) } as Client;
  };

  const expectStatus = async (answer: Promise<{ status: number; text: string }>, status: number, what: string) => {
    const { status: got, text } = await answer;
    expect([what, got, got === status ? '' : text]).toEqual([what, status, '']);
  };

  /** An operator with a wrong password tried, a JWT, and an app; the secrets kept. */
  const operatorAndApp = async (client: Client, label: string) => {
    const username = `op_${label}_${marker}`;
    const email = `op.${label}.${marker}@example.com`;
    const password = `correct horse ${randomBytes(6).toString('hex')}`;
    const wrongPassword = `${password} but wrong`;
    secret('password', password);
    secret('password (wrong attempt)', wrongPassword);
    const account = await client.post('/api/auth/register', { body: { email, username, password } });
    expect(account.status).toBe(201);
    await expectStatus(client.post('/api/auth/login', { body: { username, password: wrongPassword } }), 401, 'wrong password');
    const login = await client.post('/api/auth/login', { body: { username: email, password } });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    await expectStatus(client.get('/api/auth/me', { token }), 200, 'me');
    const created = await client.post('/api/app', { token, body: { name: `Leak app ${label} ${marker}`, policy } });
    expect(created.status).toBe(201);
    return { token, appId: created.body.id as string, apiKey: created.body.api_key as string };
  };

  /** The challenge once `done` holds for it (polled through the API). */
  const challengeWhen = async (client: Client, apiKey: string, challengeId: string, done: (view: any) => boolean, what: string, timeoutMs = 20_000): Promise<any> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = (await client.get(`/api/code/${challengeId}`, { apiKey })).body;
      if (done(view)) return view;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen ${JSON.stringify(view)}`);
      await sleep(100);
    }
  };
  const finished = (view: any) => view?.delivery?.status === 'SENT' || view?.delivery?.status === 'FAILED';

  beforeAll(async () => {
    await compileService();
    receiver = await startReceiver();
    [fakeResend, fakeTwilio] = await Promise.all([startFakeResend({ apiKey: resendApiKey }), startFakeTwilio({ accountSid: twilioAccountSid, authToken: twilioAuthToken })]);
    resendFront = await startFront('resend', () => fakeResend.url);
    twilioFront = await startFront('twilio', () => fakeTwilio.url);
    const smtpUser = `relay-${marker}`;
    const smtpPassword = `smtp-pass-${randomBytes(8).toString('hex')}`;
    fakeSmtp = await startFakeSmtp({ user: smtpUser, pass: smtpPassword });
    smtpProxy = await startSmtpProxy(fakeSmtp.port);

    const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const secretsA = deploymentSecrets();
    const secretsB = deploymentSecrets();
    // Configuration secrets: never in telemetry either.
    secret('resend api key', resendApiKey);
    secret('resend webhook secret', webhookSecret);
    secret('resend webhook secret (its key)', webhookSecret.slice('whsec_'.length));
    secret('twilio auth token', twilioAuthToken);
    secret('twilio basic credentials', Buffer.from(`${twilioAccountSid}:${twilioAuthToken}`).toString('base64'));
    secret('smtp password', smtpPassword);
    secret('smtp AUTH PLAIN', Buffer.from(`\0${smtpUser}\0${smtpPassword}`).toString('base64'));
    for (const [label, keys] of [['A', secretsA], ['B', secretsB]] as const) {
      secret(`master key ${label}`, keys.MASTER_KEY);
      secret(`master key ${label} (hex)`, Buffer.from(keys.MASTER_KEY, 'base64').toString('hex'));
      secret(`jwt secret ${label}`, keys.JWT_SECRET);
    }

    const backend = async (label: string) => {
      const dir = tempDir(`telemetry-leaks-${label}`);
      dirs.push(dir);
      if (!shared) return { DATA_DIR: dir.path };
      const schema = await createTestSchema();
      schemas.push(schema);
      return { DATA_DIR: dir.path, DATABASE_URL: schema.url, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: `test:${schema.schema}:` };
    };
    const telemetry = (name: string) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_SERVICE_NAME: name,
      DELIVERY_TIMEOUT_MS: String(DELIVERY_TIMEOUT_MS),
      SENDS_PER_IP_PER_HOUR: '100000',
      VERIFY_UNKNOWN_USERS_PER_APP: '1',
    });
    const portA = await portInRange();
    const portB = await portInRange();
    [a, b] = await Promise.all([
      startServiceProcess({
        port: portA,
        env: {
          ...(await backend('a')),
          ...secretsA,
          ...telemetry(serviceA),
          NODE_OPTIONS: redirectingPreload(resendFront.url, twilioFront.url, root),
          RESEND_API_KEY: resendApiKey,
          RESEND_RATE_PER_SECOND: '10000',
          RESEND_WEBHOOK_SECRET: webhookSecret,
          EMAIL_ADDRESS: 'codes@acme.example',
          TWILIO_ACCOUNT_SID: twilioAccountSid,
          TWILIO_AUTH_TOKEN: twilioAuthToken,
          TWILIO_PHONE_NUMBER: twilioPhoneNumber,
          TWILIO_WHATSAPP_NUMBER: `whatsapp:${twilioWhatsappNumber}`,
          TWILIO_WHATSAPP_CONTENT_SID: twilioWhatsappContentSid,
          PUBLIC_URL: `http://127.0.0.1:${portA}`,
        },
      }),
      startServiceProcess({
        port: portB,
        env: {
          ...(await backend('b')),
          ...secretsB,
          ...telemetry(serviceB),
          SMTP_URL: `smtp://${encodeURIComponent(smtpUser)}:${encodeURIComponent(smtpPassword)}@127.0.0.1:${smtpProxy.port}`,
          EMAIL_ADDRESS: 'codes@acme.example',
        },
      }),
    ]);

    // ------------------------------------------------------------------ A: Resend and Twilio
    const flowA = async () => {
      const client = harvesting(createClient(a.url));
      const { token, appId, apiKey: firstKey } = await operatorAndApp(client, 'a');
      identifiers.push({ kind: 'app id', value: appId });
      const rotated = await client.put(`/api/app/${appId}/api-key`, { token });
      expect(rotated.status).toBe(201);
      const key = { apiKey: rotated.body.api_key as string };
      await expectStatus(client.get('/api/otp/status?username=nobody', { apiKey: firstKey }), 401, 'old key');

      // TOTP: seed, activation at step T, verification at T+1, a wrong code, recovery codes.
      const totpUser = `totp_${marker}`;
      const registered = await client.post('/api/otp/register', { ...key, body: { username: totpUser, otp_method: 'TOTP' } });
      expect(registered.status).toBe(201);
      const seed = registered.body.secret as string;
      const enableCode = totpAt(seed, new Date(), totpParams);
      const enabled = await client.put('/api/otp/enable', { ...key, body: { username: totpUser, otp: enableCode } });
      expect(enabled.status).toBe(200);
      const verifyCode = totpAt(seed, new Date(Date.now() + totpParams.period * 1000), totpParams);
      const near = [-2, -1, 0, 1, 2].map((step) => totpAt(seed, new Date(Date.now() + step * totpParams.period * 1000), totpParams));
      let wrong = String(randomInt(10_000_000, 100_000_000));
      while (near.includes(wrong)) wrong = String(randomInt(10_000_000, 100_000_000));
      secret('totp code (enable)', enableCode);
      secret('totp code (verify)', verifyCode);
      secret('totp code (wrong)', wrong);
      await expectStatus(client.post('/api/code/verify', { ...key, body: { username: totpUser, otp: verifyCode } }), 200, 'totp verify');
      await expectStatus(client.post('/api/code/verify', { ...key, body: { username: totpUser, otp: wrong } }), 401, 'wrong totp');
      const recovery = enabled.body.recovery_codes as string[];
      await expectStatus(client.post('/api/code/verify', { ...key, body: { username: totpUser, otp: recovery[0] } }), 200, 'recovery code');
      await expectStatus(client.put('/api/otp/recovery', { ...key, body: { username: totpUser } }), 200, 'new recovery codes');
      // Unknown users past VERIFY_UNKNOWN_USERS_PER_APP: the decoy forgets some (a metric).
      for (let i = 0; i < 3; i++) await expectStatus(client.post('/api/code/verify', { ...key, body: { username: `ghost_${i}_${marker}`, otp: '12345678' } }), 401, 'unknown user');

      // A code exported to the app, then verified.
      const generated = await client.post('/api/code/generate', { ...key, body: { username: `export_${marker}` } });
      expect(generated.status).toBe(201);
      await expectStatus(client.post('/api/code/verify', { ...key, body: { challenge_id: generated.body.challenge_id, otp: generated.body.code } }), 200, 'exported code');

      let n = 0;
      const phone = () => `+3461${String(randomInt(0, 1000)).padStart(3, '0')}${String(n++).padStart(4, '0')}`;
      const address = (label: string) => `leak.${label}.${n++}.${marker}@example.org`;
      const front = (channel: Send['channel']) => (channel === 'EMAIL' ? resendFront : twilioFront);
      const send = async (label: string, channel: Send['channel'], modes: Mode[], expected: Send['expect']): Promise<Send> => {
        const to = channel === 'EMAIL' ? address(label) : phone();
        front(channel).plan(channel === 'WHATSAPP' ? `whatsapp:${to}` : to, ...modes);
        if (channel === 'EMAIL') secret('email address', to);
        else needles.push(...phoneNeedles(to, '34'));
        identifiers.push({ kind: 'destination', value: to });
        const answer = await client.post('/api/code/send', { ...key, body: { username: `${label}_${n}_${marker}`, channel, to } });
        expect([label, answer.status, answer.status === 202 ? '' : answer.text]).toEqual([label, 202, '']);
        const sent = { label, channel, to, challengeId: answer.body.challenge_id as string, expect: expected };
        sends.push(sent);
        return sent;
      };

      // An SMS enrollment, confirmed with the code Twilio carried.
      const smsUser = `sms_${marker}`;
      const smsPhone = phone();
      needles.push(...phoneNeedles(smsPhone, '34'));
      const sms = await client.post('/api/otp/register', { ...key, body: { username: smsUser, otp_method: 'SMS', destination: smsPhone } });
      expect(sms.status).toBe(201);
      const deadline = Date.now() + 10_000;
      while (!twilioFront.requests.some((r) => r.to === smsPhone && r.code) && Date.now() < deadline) await sleep(50);
      const smsConfirm = twilioFront.requests.find((r) => r.to === smsPhone && r.code)?.code ?? 'none';
      await expectStatus(client.put('/api/otp/enable', { ...key, body: { username: smsUser, otp_method: 'SMS', otp: smsConfirm } }), 200, 'sms enable');

      // Every way an HTTP provider fails, on every channel, each send its own destination.
      const failing = await Promise.all([
        send('resend_4xx_echo', 'EMAIL', ['echo-4xx'], 'FAILED'),
        send('resend_fields', 'EMAIL', ['echo-fields', 'pass'], 'SENT'),
        send('resend_5xx_echo', 'EMAIL', ['echo-5xx', 'pass'], 'SENT'),
        send('resend_html_502', 'EMAIL', ['echo-html', 'pass'], 'SENT'),
        send('resend_429', 'EMAIL', ['throttle', 'pass'], 'SENT'),
        send('resend_timeout', 'EMAIL', ['hang', 'pass'], 'SENT'),
        send('resend_reset', 'EMAIL', ['reset', 'pass'], 'SENT'),
        send('resend_ok_delivered', 'EMAIL', [], 'SENT'),
        send('resend_ok_bounced', 'EMAIL', [], 'SENT'),
        send('resend_ok_complained', 'EMAIL', [], 'SENT'),
        send('sms_4xx_echo', 'SMS', ['echo-4xx'], 'FAILED'),
        send('sms_fields', 'SMS', ['echo-fields'], 'FAILED'),
        send('sms_5xx_echo', 'SMS', ['echo-5xx', 'pass'], 'SENT'),
        send('sms_html_502', 'SMS', ['echo-html', 'pass'], 'SENT'),
        send('sms_429', 'SMS', ['throttle', 'pass'], 'SENT'),
        send('sms_timeout', 'SMS', ['hang', 'pass'], 'SENT'),
        send('sms_reset', 'SMS', ['reset', 'pass'], 'SENT'),
        send('sms_ok_delivered', 'SMS', [], 'SENT'),
        send('sms_ok_undelivered', 'SMS', [], 'SENT'),
        send('whatsapp_4xx_echo', 'WHATSAPP', ['echo-4xx'], 'FAILED'),
        send('whatsapp_5xx_echo', 'WHATSAPP', ['echo-5xx', 'pass'], 'SENT'),
        send('whatsapp_timeout', 'WHATSAPP', ['hang', 'pass'], 'SENT'),
        send('whatsapp_ok_read', 'WHATSAPP', [], 'SENT'),
      ]);
      for (const view of await Promise.all(failing.map((s) => challengeWhen(client, key.apiKey, s.challengeId, finished, s.label)))) finalStatus.set(view.challenge_id, view.delivery.status);

      // Connection refused: the fronts' listeners closed until each send has failed once.
      await Promise.all([resendFront.closeListener(), twilioFront.closeListener()]);
      const refused = await Promise.all([send('resend_refused', 'EMAIL', [], 'SENT'), send('sms_refused', 'SMS', [], 'SENT'), send('whatsapp_refused', 'WHATSAPP', [], 'SENT')]);
      await Promise.all(refused.map((s) => challengeWhen(client, key.apiKey, s.challengeId, (v) => v.delivery.attempts >= 1 && typeof v.delivery.reason === 'string', `${s.label} refused`)));
      await Promise.all([resendFront.openListener(), twilioFront.openListener()]);
      for (const view of await Promise.all(refused.map((s) => challengeWhen(client, key.apiKey, s.challengeId, finished, s.label)))) finalStatus.set(view.challenge_id, view.delivery.status);

      // Every code a front saw is a secret; the delivered ones are verified (one wrong guess first).
      for (const request of [...resendFront.requests, ...twilioFront.requests]) if (request.code) secret(`sent code (${request.mode})`, request.code);
      const codeFor = (s: Send) => front(s.channel).requests.filter((r) => r.to === (s.channel === 'WHATSAPP' ? `whatsapp:${s.to}` : s.to) && r.code).at(-1)?.code;

      // Reports after acceptance: Twilio's status callbacks, Resend's webhooks.
      const bySend = (label: string) => sends.find((s) => s.label === label)!;
      const sid = (s: Send) => fakeTwilio.sent.filter((m) => m.form['To'] === (s.channel === 'WHATSAPP' ? `whatsapp:${s.to}` : s.to)).at(-1)!.sid;
      const emailId = (s: Send) => fakeResend.sent.filter((m) => JSON.stringify(m.body['to']) === JSON.stringify([s.to])).at(-1)!.id;
      expect((await fakeTwilio.report(sid(bySend('sms_ok_delivered')), 'delivered')).status).toBe(204);
      expect((await fakeTwilio.report(sid(bySend('sms_ok_undelivered')), 'undelivered', { errorCode: 30003 })).status).toBe(204);
      expect((await fakeTwilio.report(sid(bySend('whatsapp_ok_read')), 'read')).status).toBe(204);
      const webhook = { url: `${a.url}/api/webhooks/resend`, secret: webhookSecret };
      expect((await fakeResend.report(emailId(bySend('resend_ok_delivered')), 'email.delivered', webhook)).status).toBe(204);
      const bounced = bySend('resend_ok_bounced');
      expect(
        (await fakeResend.report(emailId(bounced), 'email.bounced', { ...webhook, extra: { bounce: { type: 'Permanent', subType: 'General', message: `550 5.1.1 <${bounced.to}>: Recipient address rejected` } } })).status,
      ).toBe(204);
      expect((await fakeResend.report(emailId(bySend('resend_ok_complained')), 'email.complained', webhook)).status).toBe(204);

      const delivered = sends.filter((s) => s.expect === 'SENT' && !['sms_ok_undelivered', 'resend_ok_bounced'].includes(s.label));
      for (const s of delivered) {
        const code = codeFor(s);
        expect([s.label, typeof code]).toEqual([s.label, 'string']);
        const wrongCode = code === '9999999999' ? '8888888888' : '9999999999';
        if (s.label === 'sms_timeout') await expectStatus(client.post('/api/code/verify', { ...key, body: { challenge_id: s.challengeId, otp: wrongCode } }), 401, 'wrong sent code');
        await expectStatus(client.post('/api/code/verify', { ...key, body: { challenge_id: s.challengeId, otp: code } }), 200, `${s.label} verify`);
      }
      for (const s of sends) reasons.push({ where: `delivery reason of ${s.label}`, text: String((await client.get(`/api/code/${s.challengeId}`, key)).body.delivery.reason ?? '') });

      await expectStatus(client.post('/api/auth/logout', { token }), 204, 'logout');
      await expectStatus(client.get('/api/auth/me', { token }), 401, 'revoked token');
    };

    // ------------------------------------------------------------------ B: SMTP
    const flowB = async () => {
      const client = harvesting(createClient(b.url));
      const { apiKey, appId } = await operatorAndApp(client, 'b');
      identifiers.push({ kind: 'app id', value: appId });
      let n = 0;
      /** One send at a time: the fake's scripted replies go to the next command of their stage, whoever's. */
      const send = async (label: string, expected: 'SENT' | 'FAILED', before: (to: string) => void | Promise<void> = () => undefined, whileFailing?: { until: RegExp; then: () => Promise<void> }) => {
        const to = `leak.smtp.${label}.${n++}.${marker}@example.org`;
        secret('email address', to);
        identifiers.push({ kind: 'destination', value: to });
        await before(to);
        const answer = await client.post('/api/code/send', { apiKey, body: { username: `smtp_${label}_${marker}`, channel: 'EMAIL', to } });
        expect([label, answer.status]).toEqual([label, 202]);
        const challengeId = answer.body.challenge_id as string;
        identifiers.push({ kind: 'challenge id', value: challengeId });
        if (whileFailing) {
          await challengeWhen(client, apiKey, challengeId, (v) => whileFailing.until.test(String(v.delivery.reason ?? '')), `${label} failing`);
          await whileFailing.then();
        }
        const view = await challengeWhen(client, apiKey, challengeId, finished, label);
        smtpSends.push({ label, challengeId, to, expect: expected });
        finalStatus.set(challengeId, view.delivery.status);
        reasons.push({ where: `delivery reason of ${label}`, text: String(view.delivery.reason ?? '') });
        return { challengeId, to };
      };
      const rcpt = await send('rcpt_450', 'SENT', (to) => fakeSmtp.script({ stage: 'rcpt', code: 450, message: `4.2.0 <${to}>: Recipient address rejected: greylisted` }));
      await send('data_554', 'FAILED', (to) => fakeSmtp.script({ stage: 'data', code: 554, message: `5.7.1 Message to <${to}> rejected as spam` }));
      await send('auth_535', 'FAILED', () => fakeSmtp.script({ stage: 'auth', code: 535, message: `5.7.8 Authentication failed for relay-${marker}` }));
      await send('mail_421', 'SENT', () => fakeSmtp.script({ stage: 'mail', code: 421, message: '4.7.0 Try again later, closing connection' }));
      await send('silent_timeout', 'SENT', () => smtpProxy.next('silent'));
      await send('refused', 'SENT', () => smtpProxy.closeListener(), { until: /ESOCKET|ECONNREFUSED/, then: () => smtpProxy.openListener() });
      const ok = await send('ok', 'SENT');
      for (const connection of smtpProxy.connections) {
        const code = smtpCode(connection.sent);
        if (code) secret('sent code (smtp)', code);
      }
      // The codes of delivered emails, verified (a wrong guess first).
      const codeOf = (to: string) => {
        const mail = fakeSmtp.received.filter((m) => m.rcptTo.includes(to)).at(-1);
        const text = mail && parseMime(mail.raw).parts.find((part) => /text\/plain/i.test(part.headers['content-type'] ?? ''));
        return codeIn(text?.body);
      };
      await expectStatus(client.post('/api/code/verify', { apiKey, body: { challenge_id: ok.challengeId, otp: '9999999999' === codeOf(ok.to) ? '8888888888' : '9999999999' } }), 401, 'wrong smtp code');
      for (const sent of [rcpt, ok]) await expectStatus(client.post('/api/code/verify', { apiKey, body: { challenge_id: sent.challengeId, otp: codeOf(sent.to) } }), 200, 'smtp verify');
    };

    await Promise.all([flowA(), flowB()]);
    for (const s of sends) identifiers.push({ kind: 'challenge id', value: s.challengeId });

    // Everything the processes recorded: stopped, they flush their spans and a last export of metrics.
    await Promise.all([a.stop(), b.stop()]);
    exportsSeen = [...receiver.exports];
  }, 240_000);

  afterAll(async () => {
    await stopAllServiceProcesses();
    await Promise.all([receiver?.close(), resendFront?.close(), twilioFront?.close(), smtpProxy?.close(), fakeResend?.close(), fakeTwilio?.close(), fakeSmtp?.close()]);
    for (const schema of schemas) await schema.drop();
    for (const dir of dirs) dir.remove();
  });

  const allNeedles = () => [...needles, ...needles.flatMap(encodedForms)];
  const metricExports = () => exportsSeen.filter((e) => e.signal === 'metrics');
  const traceExports = () => exportsSeen.filter((e) => e.signal === 'traces');
  const points = () => metricExports().flatMap((e) => metricPoints(e.json));
  const logLines = (): Haystack[] => [
    ...a.lines.map((text, i) => ({ where: `A log line ${i}`, text })),
    ...b.lines.map((text, i) => ({ where: `B log line ${i}`, text })),
    { where: 'A stderr', text: a.stderr() },
    { where: 'B stderr', text: b.stderr() },
  ];
  /** The provider calls `otp_verify.delivery.duration` counted, by "service channel provider outcome". */
  const deliveryCalls = () => {
    const latest = new Map<string, number>();
    for (const p of points().filter((p) => p.metric === 'otp_verify.delivery.duration'))
      latest.set(`${p.service === serviceA ? 'A' : 'B'} ${String(p.attributes['channel'])} ${String(p.attributes['provider'])} ${String(p.attributes['outcome'])}`, p.value);
    return latest;
  };

  it('collected every kind of secret the flows handled and the providers were sent', () => {
    const kinds = new Set(needles.map((n) => n.kind));
    for (const kind of [
      'password', 'password (wrong attempt)', 'access token', 'api key', 'totp seed', 'totp seed (hex)', 'otpauth uri', 'qr code (part of its PNG)',
      'totp code (enable)', 'totp code (verify)', 'totp code (wrong)', 'recovery code', 'exported code (/api/code/generate)',
      'sent code (pass)', 'sent code (echo-4xx)', 'sent code (echo-fields)', 'sent code (echo-5xx)', 'sent code (echo-html)', 'sent code (throttle)', 'sent code (hang)', 'sent code (reset)', 'sent code (smtp)',
      'phone number', 'email address', 'resend api key', 'twilio auth token', 'smtp password', 'resend webhook secret', 'master key A', 'jwt secret B',
    ])
      expect([kind, kinds.has(kind)]).toEqual([kind, true]);
    expect(needles.filter((n) => n.kind === 'api key')).toHaveLength(3);
    expect(needles.filter((n) => n.kind === 'access token')).toHaveLength(2);
    // A code for each send (a retry carries its send's code again) and the SMS enrollment.
    expect(new Set(needles.filter((n) => n.kind.startsWith('sent code') && !n.kind.includes('smtp')).map((n) => n.value)).size).toBe(sends.length + 1);
    // SMTP: every send but the one refused at AUTH reached DATA at least once.
    expect(new Set(needles.filter((n) => n.kind === 'sent code (smtp)').map((n) => n.value)).size).toBe(smtpSends.length - 1);
    expect(needles.filter((n) => /code/.test(n.kind) && /^[0-9]+$/.test(n.value)).every((n) => n.value.length >= 8)).toBe(true);
  });

  it('had every provider fail in every way: echoing 4xx and 5xx, HTML 502, 429, timeouts, resets, refused connections, SMTP refusals', () => {
    // What the fronts answered, by provider and mode.
    const answered = (front: Front) => new Set(front.requests.map((r) => r.mode));
    for (const mode of ['pass', 'echo-4xx', 'echo-fields', 'echo-5xx', 'echo-html', 'throttle', 'hang', 'reset'] as const) expect([mode, answered(resendFront).has(mode)]).toEqual([mode, true]);
    for (const mode of ['pass', 'echo-4xx', 'echo-fields', 'echo-5xx', 'echo-html', 'throttle', 'hang', 'reset'] as const) expect([mode, answered(twilioFront).has(mode)]).toEqual([mode, true]);
    expect(twilioFront.requests.some((r) => r.to.startsWith('whatsapp:') && r.mode === 'hang')).toBe(true);
    // Each send ended as planned, after the failures its plan asked for.
    const failures = (challengeId: string) =>
      [...a.lines, ...b.lines].filter((line) => line.includes('"msg":"delivery failed"') && line.includes(challengeId)).map((line) => String((JSON.parse(line) as { reason?: unknown }).reason));
    const outcomes = [...sends, ...smtpSends].map((s) => [s.label, failures(s.challengeId)] as const);
    const reasonOf = (label: string) => outcomes.find(([l]) => l === label)![1].join(' | ');
    for (const [label, pattern] of [
      ['resend_4xx_echo', /^resend: rejected \(HTTP 422, validation_error\)/],
      ['resend_fields', /^resend: unreachable \(no status\)/],
      ['resend_5xx_echo', /^resend: failed \(HTTP 500, internal_server_error\)/],
      ['resend_html_502', /^resend: failed \(HTTP 502/],
      ['resend_429', /^resend: failed \(HTTP 429, rate_limit_exceeded\)/],
      // The SDK does not say why fetch failed: the front's records below tell these apart.
      ['resend_timeout', /^resend: unreachable \(no response\)/],
      ['resend_reset', /^resend: unreachable \(no response\)/],
      ['resend_refused', /^resend: unreachable \(no response\)/],
      ['sms_4xx_echo', /^twilio-sms: rejected \(HTTP 400, 21211\)/],
      ['sms_fields', /^twilio-sms: rejected \(HTTP 400\)/],
      ['sms_5xx_echo', /^twilio-sms: failed \(HTTP 500, 20500\)/],
      ['sms_html_502', /^twilio-sms: failed \(HTTP 502/],
      ['sms_429', /^twilio-sms: failed \(HTTP 429, 20429\)/],
      ['sms_timeout', /^twilio-sms: unreachable \(ECONNABORTED\)/],
      ['sms_reset', /^twilio-sms: unreachable \(ECONNRESET\)/],
      ['sms_refused', /^twilio-sms: unreachable \(ECONNREFUSED\)/],
      ['whatsapp_4xx_echo', /^twilio-whatsapp: rejected \(HTTP 400, 21211\)/],
      ['whatsapp_5xx_echo', /^twilio-whatsapp: failed \(HTTP 500, 20500\)/],
      ['whatsapp_timeout', /^twilio-whatsapp: unreachable \(ECONNABORTED\)/],
      ['whatsapp_refused', /^twilio-whatsapp: unreachable \(ECONNREFUSED\)/],
      ['rcpt_450', /^smtp: failed \(SMTP 450\)/],
      ['data_554', /^smtp: rejected \(SMTP 554\)/],
      ['auth_535', /^smtp: rejected \(SMTP 535\)/],
      ['mail_421', /^smtp: failed \(SMTP 421\)/],
      ['silent_timeout', /^smtp: unreachable \(ETIMEDOUT\)/],
      ['refused', /^smtp: unreachable \((ESOCKET|ECONNREFUSED)\)/],
    ] as const)
      expect([label, reasonOf(label)]).toEqual([label, expect.stringMatching(pattern)]);
    for (const s of [...sends, ...smtpSends].filter((s) => s.label.includes('_ok') || s.label === 'ok')) expect([s.label, failures(s.challengeId)]).toEqual([s.label, []]);
    // Refused: the failed attempts never reached the front or the proxy; only the retry after reopening did.
    for (const s of sends.filter((s) => s.label.endsWith('_refused'))) {
      const front = s.channel === 'EMAIL' ? resendFront : twilioFront;
      const seen = front.requests.filter((r) => r.to === (s.channel === 'WHATSAPP' ? `whatsapp:${s.to}` : s.to)).map((r) => r.mode);
      expect([s.label, seen, failures(s.challengeId).length > 0]).toEqual([s.label, ['pass'], true]);
    }
    const refusedSmtp = smtpSends.find((s) => s.label === 'refused')!;
    expect(smtpProxy.connections.filter((c) => c.sent.includes(`<${refusedSmtp.to}>`))).toHaveLength(1);
    // A timeout is a request that was received and never answered.
    for (const s of sends.filter((s) => s.label.endsWith('_timeout'))) {
      const front = s.channel === 'EMAIL' ? resendFront : twilioFront;
      expect([s.label, front.requests.filter((r) => r.to.endsWith(s.to)).map((r) => r.mode)]).toEqual([s.label, ['hang', 'pass']]);
    }
    // Every send ended as its plan said.
    const ended = [...sends, ...smtpSends].map((s) => [s.label, finalStatus.get(s.challengeId)]);
    expect(ended).toEqual([...sends, ...smtpSends].map((s) => [s.label, s.expect]));
    expect(smtpProxy.connections.some((c) => c.mode === 'silent')).toBe(true);
  });

  it('received metrics from both processes: every provider call by outcome, reports, receipts, complaints, requests by route', () => {
    expect(receiver.problems).toEqual([]);
    expect(metricExports().length).toBeGreaterThan(2);
    const services = new Set(points().map((p) => p.service));
    expect(services).toEqual(new Set([serviceA, serviceB]));
    const calls = deliveryCalls();
    for (const series of [
      'A EMAIL resend sent', 'A EMAIL resend transient_failure', 'A EMAIL resend permanent_failure',
      'A SMS twilio-sms sent', 'A SMS twilio-sms transient_failure', 'A SMS twilio-sms permanent_failure',
      'A WHATSAPP twilio-whatsapp sent', 'A WHATSAPP twilio-whatsapp transient_failure', 'A WHATSAPP twilio-whatsapp permanent_failure',
      'B EMAIL smtp sent', 'B EMAIL smtp transient_failure', 'B EMAIL smtp permanent_failure',
    ])
      expect([series, (calls.get(series) ?? 0) > 0]).toEqual([series, true]);
    const counted = (metric: string) => new Set(points().filter((p) => p.metric === metric).map((p) => `${String(p.attributes['channel'])} ${String(p.attributes['provider'])} ${String(p.attributes['outcome'])}`));
    expect([...counted('otp_verify.delivery.receipts')]).toEqual(expect.arrayContaining(['SMS twilio-sms delivered', 'WHATSAPP twilio-whatsapp read', 'EMAIL resend delivered']));
    expect([...counted('otp_verify.delivery.reports')]).toEqual(expect.arrayContaining([expect.stringMatching(/^SMS twilio-sms /), expect.stringMatching(/^EMAIL resend /)]));
    expect([...counted('otp_verify.delivery.complaints')]).toEqual(['EMAIL resend undefined']);
    const names = new Set(points().map((p) => p.metric));
    for (const name of ['http.server.request.duration', 'otp_verify.delivery.duration', 'otp_verify.delivery.reports', 'otp_verify.delivery.receipts', 'otp_verify.delivery.complaints', 'otp_verify.decoy.forgotten'])
      expect([name, names.has(name)]).toEqual([name, true]);
    const routes = new Set(points().filter((p) => p.metric === 'http.server.request.duration').map((p) => p.attributes['http.route']));
    for (const route of ['/api/auth/register', '/api/auth/login', '/api/auth/logout', '/api/app', '/api/otp/register', '/api/otp/enable', '/api/otp/recovery', '/api/code/send', '/api/code/verify', '/api/code/generate', '/api/webhooks/resend', '/api/webhooks/twilio/status'])
      expect([route, routes.has(route)]).toEqual([route, true]);
    // The resource of a metric export names the process: what the search of resources sees.
    const pids = metricExports().flatMap((e) => (e.json.resourceMetrics ?? []).map((rm: any) => toAttributes(rm.resource?.attributes)['process.pid']));
    expect(pids).toEqual(expect.arrayContaining([String(a.pid), String(b.pid)]));
  });

  it('received the spans, provider calls included, so the search of traces has something to search', () => {
    const spans = traceExports().flatMap((e) => spansOf(e.json));
    expect(spans.length).toBeGreaterThan(100);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set([serviceA, serviceB]));
    // The http client instrumentation recorded A's calls to the providers (through the fronts).
    const toFront = (front: Front) => spans.filter((s) => s.kind === 3 && JSON.stringify(s.attributes).includes(front.url.replace('http://', '')));
    expect(toFront(resendFront).length + toFront(twilioFront).length).toBeGreaterThan(0);
    expect(toFront(twilioFront).length).toBeGreaterThan(10);
  });

  it('would find a secret planted in any place of a metric export or a span', () => {
    const kinds = [...new Map(allNeedles().map((n) => [n.kind, n])).values()];
    const kv = (key: string, value: AnyValue) => ({ key, value });
    const metricsExport = (plant: { name?: string; description?: string; attribute?: AnyValue; resource?: AnyValue; scope?: string; exemplar?: AnyValue; key?: string }) => ({
      resourceMetrics: [
        {
          resource: { attributes: [kv('service.name', { stringValue: 'x' }), ...(plant.resource ? [kv('planted', plant.resource)] : [])] },
          scopeMetrics: [
            {
              scope: { name: plant.scope ?? 'otp-verify' },
              metrics: [
                {
                  name: plant.name ?? 'm',
                  description: plant.description ?? '',
                  histogram: {
                    dataPoints: [
                      {
                        attributes: [...(plant.attribute ? [kv('planted', plant.attribute)] : []), ...(plant.key ? [kv(plant.key, { boolValue: true })] : [])],
                        count: 1,
                        exemplars: plant.exemplar ? [{ filteredAttributes: [kv('planted', plant.exemplar)] }] : [],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const metricPlaces: ((value: string) => unknown)[] = [
      (value) => metricsExport({ name: `otp.${value}` }),
      (value) => metricsExport({ description: `about ${value}` }),
      (value) => metricsExport({ attribute: { stringValue: `x ${value} y` } }),
      (value) => metricsExport({ attribute: { bytesValue: Buffer.from(value).toString('base64') } }),
      (value) => metricsExport({ attribute: { arrayValue: { values: [{ stringValue: value }] } } }),
      (value) => metricsExport({ attribute: { kvlistValue: { values: [kv('k', { stringValue: value })] } } }),
      (value) => metricsExport({ key: `to.${value}` }),
      (value) => metricsExport({ resource: { stringValue: value } }),
      (value) => metricsExport({ scope: `scope ${value}` }),
      (value) => metricsExport({ exemplar: { stringValue: value } }),
      // A code written as a number.
      (value) => metricsExport({ attribute: /^[0-9]+$/.test(value) ? { intValue: value } : { stringValue: value } }),
    ];
    const spanExport = (span: object, resource: KeyValue[] = []) => ({ resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: 's' }, spans: [{ name: 'GET', attributes: [], ...span }] }] }] });
    const spanPlaces: ((value: string) => unknown)[] = [
      (value) => spanExport({ name: `GET ${value}` }),
      (value) => spanExport({ attributes: [kv('planted', { stringValue: value })] }),
      (value) => spanExport({ events: [{ name: 'exception', attributes: [kv('exception.message', { stringValue: `bad: ${value}` })] }] }),
      (value) => spanExport({ links: [{ attributes: [kv('planted', { stringValue: value })] }] }),
      (value) => spanExport({ status: { code: 2, message: `failed for ${value}` } }),
      (value) => spanExport({}, [kv('planted', { stringValue: value })]),
    ];
    const missed = kinds.flatMap((needle) => [
      ...metricPlaces.map((plant, i) => [needle.kind, `metric place ${i}`, findLeaks(metricHaystacks(plant(needle.value), 'planted'), [needle]).length] as const),
      ...spanPlaces.map((plant, i) => [needle.kind, `span place ${i}`, findLeaks(spanHaystacks(plant(needle.value), 'planted'), [needle]).length] as const),
    ]).filter(([, , found]) => found !== 1);
    expect(missed).toEqual([]);
    // A code recorded as a value (a histogram's sum, a gauge) is in the export body, which is searched whole.
    const asValue = kinds.filter((n) => /^[0-9]{1,15}$/.test(n.value)).filter((n) => {
      const body = JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', histogram: { dataPoints: [{ count: 1, sum: Number(n.value) }] } }] }] }] });
      return findLeaks([{ where: 'body', text: body }], [{ kind: n.kind, value: n.value.replace(/^0+/, '') || '0' }]).length !== 1;
    });
    expect(asValue).toEqual([]);
    // And the search sees what the service does export: the pid in the resources, its own metric names.
    expect(findLeaks(metricExports().flatMap((e, i) => metricHaystacks(e.json, `#${i}`)), [{ kind: 'pid', value: String(a.pid) }, { kind: 'metric', value: 'otp_verify.delivery.duration' }]).length).toBeGreaterThan(1);
  });

  it('exports no secret in any metric (name, description, unit, attributes, exemplars, resource, scope) or metrics export body', () => {
    const haystacks = metricExports().flatMap((e, i) => [...metricHaystacks(e.json, `metrics export #${i}`), { where: `metrics export #${i} body`, text: e.text }]);
    expect(haystacks.length).toBeGreaterThan(20);
    expect(findLeaks(haystacks, allNeedles())).toEqual([]);
  });

  it('exports no id and no destination as a metric attribute: attributes are low-cardinality', () => {
    expect(identifiers.length).toBeGreaterThan(30);
    const haystacks = metricExports().flatMap((e, i) => metricHaystacks(e.json, `metrics export #${i}`));
    expect(findLeaks(haystacks, identifiers)).toEqual([]);
  });

  it('exports no secret in any span (name, attributes, events, links, status, resource, scope) or traces export body', () => {
    const haystacks = traceExports().flatMap((e, i) => [...spanHaystacks(e.json, `traces export #${i}`), { where: `traces export #${i} body`, text: e.text }]);
    expect(findLeaks(haystacks, allNeedles())).toEqual([]);
  });

  it('writes no secret to any log line, error answer or delivery reason', () => {
    expect(a.lines.length + b.lines.length).toBeGreaterThan(50);
    expect(findLeaks([...logLines(), ...errorAnswers, ...reasons], allNeedles())).toEqual([]);
  });
});
