/** Tracer port over the global OpenTelemetry API; a no-op until register.ts starts the SDK. */
import { context, isSpanContextValid, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { callAsync } from '../../application/call-async.js';
import type { Tracer } from '../../application/ports.js';

const tracerName = 'otp-verify';

export const createOtelTracer = (): Tracer => {
  const tracer = trace.getTracer(tracerName);
  return (name, attributes, fn) => {
    const span = tracer.startSpan(name, { attributes });
    // A span nobody records (no exporter, or not sampled) is not made current inside another
    // span (a request's): switching the context would cost every request, and log lines keep
    // the enclosing span's ids. Outside any span (the delivery worker's steps) it is, or the
    // step's log lines would carry no trace id at all; the check is one lookup in the context.
    if (!span.isRecording()) return trace.getActiveSpan() === undefined ? context.with(trace.setSpan(context.active(), span), () => callAsync(fn)) : callAsync(fn);
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

/** Ids of the active span (recorded or not: they are the trace's either way), or undefined outside any span. */
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

export type FlushOutcome = { readonly flushed: true } | { readonly flushed: false; readonly reason: 'timed out' | 'failed'; readonly error?: string };

/**
 * `flushTelemetry`, given at most `limitMs`: a collector that is down or never answers would
 * otherwise hold a stopping process for the exporter's own timeout (10 s) and retries, and its
 * failure would be the process's. Never rejects; says what happened instead (the error's name
 * or code only: an exporter's message can quote its endpoint or the collector's answer).
 */
export const flushTelemetryWithin = (limitMs: number, flush: () => Promise<void> = flushTelemetry): Promise<FlushOutcome> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ flushed: false, reason: 'timed out' }), Math.max(0, limitMs));
    // Not unref'd: a process stopping on its own waits for the flush or the limit, whichever first.
    callAsync(flush).then(
      () => (clearTimeout(timer), resolve({ flushed: true })),
      (error: unknown) => {
        clearTimeout(timer);
        const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
        resolve({ flushed: false, reason: 'failed', error: typeof code === 'string' || typeof code === 'number' ? String(code) : typeof name === 'string' ? name : typeof error });
      },
    );
  });
