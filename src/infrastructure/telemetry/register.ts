/**
 * Tracing bootstrap. Load it before the app so the pg and ioredis clients are hooked:
 *   node --import ./dist/infrastructure/telemetry/register.js dist/interfaces/main.js
 * Exports spans over OTLP/HTTP JSON only when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT or
 * OTEL_TRACES_EXPORTER=otlp asks for it; otherwise spans exist only to give logs trace ids, and
 * the pg, ioredis and http client instrumentations are not even loaded.
 * Metrics (the projection lag) likewise, with OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT or
 * OTEL_METRICS_EXPORTER=otlp, every OTEL_METRIC_EXPORT_INTERVAL ms (60 s by default).
 *
 * No ESM loader hook (import-in-the-middle): the instrumentations here patch CommonJS
 * packages (pg, ioredis, and node:http as the CommonJS provider clients require it), which
 * require-in-the-middle hooks without one; ioredis is loaded with `require` for that reason
 * (redis/client.ts). A loader hook runs on a thread of its own, a second V8 isolate: it cost
 * 28 MB of resident memory per process (idle RSS 125 against 97 MB). Incoming requests get
 * their server span from the app's own middleware (http-server-span.ts), not from the Koa
 * instrumentation (which hooked Koa's ESM build) or the http one's incoming spans.
 * test/e2e/tracing.test.ts checks the server, command, pg and ioredis spans of a real process.
 */
import cluster from 'node:cluster';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { diag, DiagLogLevel, metrics } from '@opentelemetry/api';
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../../application/ports.js';
import { createLogger } from '../logging/logger.js';
import { contextStorage } from '../logging/request-context.js';
import { SharedStorageContextManager } from './context-manager.js';
import { rateLimitedDiagLogger } from './diagnostics.js';
import { redisStatement } from './redis-statement.js';
import { samplerFor } from './sampling.js';
import { goesTo, metricExportSettings, otlpOrigins, rootSampling, traceExportSettings } from './trace-export.js';
import { flushTraces } from './tracer.js';
import { serviceVersion } from '../version.js';

// OpenTelemetry's warnings and errors (failed exports above all) as JSON log lines, at most one
// a minute per kind (diagnostics.ts). Set first, so configuration problems found below are told
// too. The logger is made on the first line only: a process whose telemetry works never pays
// for a second one. Its level is the app's (LOG_LEVEL, read as config.ts does).
const logLevels = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
let diagnosticsLogger: Logger | undefined;
const diagnostics = (): Logger =>
  (diagnosticsLogger ??= createLogger({
    level: logLevels.has(process.env['LOG_LEVEL'] ?? '') ? process.env['LOG_LEVEL']! : 'info',
    pid: cluster.isWorker,
  }));
diag.setLogger(rateLimitedDiagLogger(diagnostics), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });

const settings = traceExportSettings(process.env);

// The trace SDK alone, not @opentelemetry/sdk-node: that one loads every exporter and the
// metrics and logs SDKs (about 30 MB of memory) for signals this service does not send.
// The OTLP exporter is loaded only when spans are exported.
const exporting = async (): Promise<SpanProcessor> => {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  return new BatchSpanProcessor(new OTLPTraceExporter());
};
// service.version before the environment's detector: OTEL_RESOURCE_ATTRIBUTES may say otherwise.
const resource = defaultResource()
  .merge(resourceFromAttributes({ 'service.version': serviceVersion }))
  .merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }))
  .merge(resourceFromAttributes({ 'service.name': settings.serviceName }));
// Without an exporter nobody can read a span, so none is recorded: the sampler says "do not
// record", and every span is then a non-recording one that still carries a fresh (or the
// caller's) trace id and span id, so log lines, traceparent propagation and event metadata
// keep them. Recording spans only to drop them cost about 11% of a verification's CPU here.
// With an exporter, sampling is OTEL_TRACES_SAMPLER's (every trace by default), as `samplerFor` says (sampling.ts).
const provider = new NodeTracerProvider(
  settings.export
    ? { resource, spanProcessors: [await exporting()], sampler: samplerFor(rootSampling(process.env)) }
    : { resource, sampler: new AlwaysOffSampler() },
);
// Context (AsyncLocalStorage) and W3C trace-context propagation, as the SDK would set them.
// One AsyncLocalStorage for spans and the request context (context-manager.ts).
provider.register({ contextManager: new SharedStorageContextManager(contextStorage) });

// Metrics only when exported: without a provider the API's instruments cost nothing. Set
// before the app is imported, so its meters (read-models.ts) come from this provider.
const metricSettings = metricExportSettings(process.env);
const exportingMetrics = async () => {
  const [{ AggregationType, MeterProvider, PeriodicExportingMetricReader }, { OTLPMetricExporter }] = await Promise.all([
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
  ]);
  return new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: metricSettings.intervalMs })],
    // The pg instrumentation's pool metrics (db.client.connection.*) name a pool by the host,
    // port and database of its options, which a pool made from a connection string does not
    // have: every pool of the service was one `unknown_host:unknown_port/unknown_database`
    // series, and the instrumentation keeps one running count for all its pools, so that
    // series showed whichever pool changed last. Dropped rather than exported wrong.
    views: [{ meterName: '@opentelemetry/instrumentation-pg', instrumentName: 'db.client.connection.*', aggregation: { type: AggregationType.DROP } }],
  });
};
const meterProvider = metricSettings.export ? await exportingMetrics() : undefined;
if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
// The client instrumentations only make spans: without an exporter nobody sees them, and each
// pg query and Redis command paid for a span, a context switch and wrapped callbacks
// (docs/performance.md has what this and the changes beside it were worth). Logs take their
// trace ids from the server span, which exists either way; outgoing HTTP calls then carry no
// traceparent.
if (settings.export) {
  const [{ registerInstrumentations }, { HttpInstrumentation }, { IORedisInstrumentation }, { PgInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-pg'),
  ]);
  registerInstrumentations({
    tracerProvider: provider,
    // Incoming requests get their SERVER span from the app's own middleware
    // (http-server-span.ts), far cheaper than wrapping every stream and router layer; the http
    // instrumentation is kept for outgoing calls (providers). Database spans only inside a
    // request or command, not for background polling, and none for taking a pooled connection
    // (one per query, and nothing to learn from them).
    //
    // The exporters' own POSTs to the collector are no calls of the service: they would be
    // counted in http.client.request.duration (a point per export) and, when not suppressed,
    // traced. A Redis span records its command and the fixed words of its first key only
    // (redis-statement.ts): the instrumentation's default wrote every argument, client
    // addresses in rate-limit keys and whole Lua scripts among them. pg spans record the
    // query's text with its $n placeholders, never the values bound to them (which
    // enhancedDatabaseReporting would add: it stays off).
    instrumentations: [
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, ignoreOutgoingRequestHook: goesTo(otlpOrigins(process.env)) }),
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
    ],
  });
  // node:http and node:https are patched when first required; ESM code that imports their
  // named exports (`import { request } from 'node:http'`) holds copies made at import time.
  // Require them now, then copy the patched functions into their ESM exports, so outgoing calls
  // are traced however the caller imported them.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');
  syncBuiltinESMExports();
}

const shutdownLimitMs = 3000;
let shutdown: Promise<void> | undefined;

const shutdownOnce = (): Promise<void> => {
  shutdown ??= Promise.race([
    Promise.all([provider.shutdown().catch(() => undefined), meterProvider?.shutdown().catch(() => undefined)]).then(() => undefined),
    new Promise<void>((resolve) => setTimeout(resolve, shutdownLimitMs).unref()),
  ]);
  return shutdown;
};

const onSignal = (signal: NodeJS.Signals): void => {
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGINT', onSignal);
  if (process.listenerCount(signal) > 0) {
    // The app runs its own graceful shutdown and may still end spans: flush but keep the
    // provider; beforeExit (or the app's own flushTraces()) exports the rest.
    void flushTraces().catch(() => undefined);
    return;
  }
  // Nobody else handles the signal: flush, then let it terminate the process as it would have.
  void shutdownOnce().finally(() => process.kill(process.pid, signal));
};

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
// The app drained its event loop (servers and pools closed): export what is left.
process.on('beforeExit', () => void shutdownOnce());
