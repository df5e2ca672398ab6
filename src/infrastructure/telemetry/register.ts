/**
 * Tracing bootstrap. Load it before the app so ESM imports of koa, pg and ioredis are hooked:
 *   node --import ./dist/infrastructure/telemetry/register.js dist/interfaces/main.js
 * Exports spans over OTLP/HTTP JSON only when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT or
 * OTEL_TRACES_EXPORTER=otlp asks for it; otherwise spans exist only to give logs trace ids.
 */
import { register } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { traceExportSettings } from './trace-export.js';
import { flushTraces } from './tracer.js';

// Must run before the app graph is linked: hooks only see modules imported after this.
register('import-in-the-middle/hook.mjs', import.meta.url);

const settings = traceExportSettings(process.env);

const sdk = new NodeSDK({
  serviceName: settings.serviceName,
  // A provider with a no-op processor still creates real spans (and trace ids).
  spanProcessors: [settings.export ? new BatchSpanProcessor(new OTLPTraceExporter()) : new NoopSpanProcessor()],
  // Tracing only: logs go to stdout as JSON, metrics are not collected.
  metricReaders: [],
  logRecordProcessors: [],
  // Koa spans for routes only: a span per middleware (a dozen per request) costs more CPU than
  // it tells. Database spans only inside a request or command, not for background polling, and
  // none for taking a pooled connection (one per query, and nothing to learn from them).
  instrumentations: [
    new HttpInstrumentation(),
    new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }),
    new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
  ],
});
sdk.start();

const shutdownLimitMs = 3000;
let shutdown: Promise<void> | undefined;

const shutdownOnce = (): Promise<void> => {
  shutdown ??= Promise.race([
    sdk.shutdown().catch(() => undefined),
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
