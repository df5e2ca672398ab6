/** Tracer port over the global OpenTelemetry API; a no-op until register.ts starts the SDK. */
import { context, isSpanContextValid, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { callAsync } from '../../application/call-async.js';
import type { Tracer } from '../../application/ports.js';

const tracerName = 'otp-verify';

export const createOtelTracer = (): Tracer => {
  const tracer = trace.getTracer(tracerName);
  return (name, attributes, fn) => {
    const span = tracer.startSpan(name, { attributes });
    // A span nobody records (no exporter, or not sampled) is not made current: switching the
    // context costs every request, and log lines keep the enclosing span's ids.
    if (!span.isRecording()) return callAsync(fn);
    // Made current inside fn, so nested spans get it as parent.
    return context.with(trace.setSpan(context.active(), span), async () => {
      try {
        return await fn();
      } catch (error) {
        const exception = error instanceof Error ? error : String(error);
        span.recordException(exception);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
  };
};

export type SpanIds = { readonly trace_id: string; readonly span_id: string };

/** Ids of the active span, or undefined outside any recorded span. */
export const currentSpanIds = (): SpanIds | undefined => {
  const context = trace.getActiveSpan()?.spanContext();
  return context && isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : undefined;
};

export const currentTraceId = (): string | undefined => currentSpanIds()?.trace_id;

type Flushable = { getDelegate?: () => unknown; forceFlush?: () => Promise<void> };

/**
 * Exports every finished span now. An app that ends itself with process.exit() should
 * await this first (or `flushTelemetry`); register.ts only flushes on its own when the
 * process drains or is killed by a signal nobody else handles.
 */
export const flushTraces = async (): Promise<void> => {
  const provider = trace.getTracerProvider() as Flushable;
  const delegate = (provider.getDelegate?.() ?? provider) as Flushable;
  await delegate.forceFlush?.();
};

/** Spans and metrics both: what a process that exits on its own must export first. */
export const flushTelemetry = async (): Promise<void> => {
  await Promise.all([flushTraces(), (metrics.getMeterProvider() as Flushable).forceFlush?.()]);
};
