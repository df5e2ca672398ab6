import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { contextStorage, currentRequestId, runWithRequestContext } from '../../../src/infrastructure/logging/request-context.js';
import { SharedStorageContextManager } from '../../../src/infrastructure/telemetry/context-manager.js';
import { createOtelTracer, currentSpanIds } from '../../../src/infrastructure/telemetry/tracer.js';

describe('one AsyncLocalStorage for spans and the request context', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const traced = createOtelTracer();

  beforeAll(() => provider.register({ contextManager: new SharedStorageContextManager(contextStorage) }));
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it("is the request context's storage: a context made current by OpenTelemetry is its store", () => {
    const marked = context.active().setValue(Symbol('mark'), 1);
    expect(context.with(marked, () => contextStorage.getStore())).toBe(marked);
  });

  it('keeps the request id inside spans and the span inside the request context, across awaits', async () => {
    const server = trace.getTracer('test').startSpan('GET /x');
    const seen = await context.with(trace.setSpan(context.active(), server), () =>
      runWithRequestContext({ request_id: 'req-1' }, () =>
        traced('command Shared', {}, async () => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          return { request: currentRequestId(), span: currentSpanIds() };
        }),
      ),
    );
    server.end();
    const command = exporter.getFinishedSpans().find((span) => span.name === 'command Shared');
    expect(seen).toEqual({ request: 'req-1', span: { trace_id: server.spanContext().traceId, span_id: command?.spanContext().spanId } });
    expect(command?.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(currentRequestId()).toBeUndefined();
  });

  it('keeps concurrent requests apart', async () => {
    const one = (id: string) =>
      runWithRequestContext({ request_id: id }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 3));
        return context.with(context.active(), async () => currentRequestId());
      });
    expect(await Promise.all([one('a'), one('b')])).toEqual(['a', 'b']);
  });
});

describe('SharedStorageContextManager.disable', () => {
  it('leaves the shared storage, and so the request context, working', async () => {
    const manager = new SharedStorageContextManager(contextStorage);
    const seen = await runWithRequestContext({ request_id: 'req-2' }, async () => {
      manager.disable();
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentRequestId();
    });
    expect(seen).toBe('req-2');
  });
});
