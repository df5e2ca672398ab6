/** A stand-in OTLP/HTTP JSON collector: records exported spans and metric points so tests can assert on them. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type CollectedSpan = {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly serviceName: string | undefined;
  /** Span events (recorded exceptions among them), each with its name and attributes. */
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, unknown>> }[];
  readonly links: readonly { readonly traceId: string; readonly spanId: string; readonly traceState: string | undefined; readonly attributes: Readonly<Record<string, unknown>> }[];
  /** OTLP status: code 0 unset, 1 ok, 2 error; the message as exported. */
  readonly status: { readonly code: number; readonly message: string | undefined };
  readonly traceState: string | undefined;
  /** The attributes of the span's resource (service.name, process.*, host.*). */
  readonly resource: Readonly<Record<string, unknown>>;
  /** The instrumentation scope that made the span. */
  readonly scope: { readonly name: string | undefined; readonly version: string | undefined };
};

/** One data point of a gauge, a sum or a histogram, as exported. */
export type CollectedPoint = {
  readonly metric: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** A gauge's or a sum's value; a histogram's count of recorded values. */
  readonly value: number;
  /** A histogram's sum of recorded values. */
  readonly sum?: number;
  readonly serviceName: string | undefined;
};

export type OtlpReceiver = {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:43210 */
  readonly url: string;
  readonly spans: () => readonly CollectedSpan[];
  /** Resolves with all spans once `predicate` holds for them; rejects after `timeoutMs`. */
  readonly waitForSpans: (
    predicate: (spans: readonly CollectedSpan[]) => boolean,
    timeoutMs: number,
  ) => Promise<readonly CollectedSpan[]>;
  readonly points: () => readonly CollectedPoint[];
  /** Resolves with all metric points once `predicate` holds for them; rejects after `timeoutMs`. */
  readonly waitForPoints: (predicate: (points: readonly CollectedPoint[]) => boolean, timeoutMs: number) => Promise<readonly CollectedPoint[]>;
  /** The body of every trace export request as received (decompressed JSON text): everything an exporter sent. */
  readonly traceExports: () => readonly string[];
  readonly close: () => Promise<void>;
};

/** Span kinds as numbered in OTLP. */
export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
};
type KeyValue = { key: string; value?: AnyValue };
type OtlpSpan = {
  name: string;
  kind?: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  attributes?: KeyValue[];
  events?: { name?: string; attributes?: KeyValue[] }[];
  links?: { traceId?: string; spanId?: string; traceState?: string; attributes?: KeyValue[] }[];
  status?: { code?: number; message?: string };
};
type ExportRequest = {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: OtlpSpan[] }[];
  }[];
};

const toValue = (value: AnyValue | undefined): unknown => {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(toValue);
  if (value.kvlistValue) return Object.fromEntries((value.kvlistValue.values ?? []).map(({ key, value: v }) => [key, toValue(v)]));
  return undefined;
};

type OtlpPoint = { attributes?: KeyValue[]; asInt?: number | string; asDouble?: number };
type OtlpHistogramPoint = { attributes?: KeyValue[]; count?: number | string; sum?: number };
type MetricsRequest = {
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: {
      metrics?: { name: string; gauge?: { dataPoints?: OtlpPoint[] }; sum?: { dataPoints?: OtlpPoint[] }; histogram?: { dataPoints?: OtlpHistogramPoint[] } }[];
    }[];
  }[];
};

const toAttributes = (list: KeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, toValue(value)]));

// The JSON encoding uses hex ids; accept base64 too in case an exporter differs.
const toHexId = (id: string | undefined): string | undefined => {
  if (!id) return undefined;
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
};

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
};

const collect = (payload: ExportRequest): CollectedSpan[] =>
  (payload.resourceSpans ?? []).flatMap((resourceSpan) => {
    const resource = toAttributes(resourceSpan.resource?.attributes);
    const serviceName = resource['service.name'];
    return (resourceSpan.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        name: span.name,
        kind: span.kind ?? 0,
        traceId: toHexId(span.traceId) ?? '',
        spanId: toHexId(span.spanId) ?? '',
        parentSpanId: toHexId(span.parentSpanId),
        attributes: toAttributes(span.attributes),
        serviceName: typeof serviceName === 'string' ? serviceName : undefined,
        events: (span.events ?? []).map((event) => ({ name: event.name ?? '', attributes: toAttributes(event.attributes) })),
        links: (span.links ?? []).map((link) => ({
          traceId: toHexId(link.traceId) ?? '',
          spanId: toHexId(link.spanId) ?? '',
          traceState: link.traceState || undefined,
          attributes: toAttributes(link.attributes),
        })),
        status: { code: span.status?.code ?? 0, message: span.status?.message || undefined },
        traceState: span.traceState || undefined,
        resource,
        scope: { name: scope.scope?.name, version: scope.scope?.version },
      })),
    );
  });

const collectPoints = (payload: MetricsRequest): CollectedPoint[] =>
  (payload.resourceMetrics ?? []).flatMap((resourceMetric) => {
    const serviceName = toAttributes(resourceMetric.resource?.attributes)['service.name'];
    return (resourceMetric.scopeMetrics ?? []).flatMap((scope) =>
      (scope.metrics ?? []).flatMap((metric) => [
        ...[...(metric.gauge?.dataPoints ?? []), ...(metric.sum?.dataPoints ?? [])].map((point) => ({
          metric: metric.name,
          attributes: toAttributes(point.attributes),
          value: Number(point.asInt ?? point.asDouble),
          serviceName: typeof serviceName === 'string' ? serviceName : undefined,
        })),
        ...(metric.histogram?.dataPoints ?? []).map((point) => ({
          metric: metric.name,
          attributes: toAttributes(point.attributes),
          value: Number(point.count ?? 0),
          ...(point.sum === undefined ? {} : { sum: Number(point.sum) }),
          serviceName: typeof serviceName === 'string' ? serviceName : undefined,
        })),
      ]),
    );
  });

const waitFor =
  <T>(items: T[], waiters: Set<() => boolean>, what: string, name: (item: T) => string) =>
  (predicate: (items: readonly T[]) => boolean, timeoutMs: number): Promise<readonly T[]> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!predicate(items)) return false;
        cleanup();
        resolve([...items]);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; received: ${items.map(name).join(', ') || 'none'}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      if (!check()) waiters.add(check);
    });

export const startOtlpReceiver = async (): Promise<OtlpReceiver> => {
  const received: CollectedSpan[] = [];
  const traceExports: string[] = [];
  const points: CollectedPoint[] = [];
  const waiters = new Set<() => boolean>();

  const server = createServer((request, response) => {
    const signal = request.method === 'POST' ? { '/v1/traces': 'traces', '/v1/metrics': 'metrics' }[request.url ?? ''] : undefined;
    if (!signal) {
      response.writeHead(404).end();
      return;
    }
    readBody(request)
      .then((body) => {
        const text = body.toString('utf8');
        const payload: unknown = JSON.parse(text);
        if (signal === 'traces') {
          traceExports.push(text);
          received.push(...collect(payload as ExportRequest));
        }
        else points.push(...collectPoints(payload as MetricsRequest));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        for (const wake of waiters) wake();
      })
      .catch(() => response.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const waitForSpans = waitFor(received, waiters, 'spans', (span) => span.name);

  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    waitForSpans,
    points: () => [...points],
    waitForPoints: waitFor(points, waiters, 'metric points', (point) => point.metric),
    traceExports: () => [...traceExports],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
