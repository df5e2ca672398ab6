import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import {
  createOtelTracer,
  currentSpanIds,
  currentTraceId,
  flushTelemetryWithin,
  flushTraces,
} from '../../../src/infrastructure/telemetry/tracer.js';

describe('OpenTelemetry tracer port', () => {
  const exporter = new InMemorySpanExporter();
  // Exports only when flushed: lets the test see what flushTraces() does.
  const batched = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter), new BatchSpanProcessor(batched, { scheduledDelayMillis: 3_600_000 })],
  });
  const traced = createOtelTracer();
  const finished = () => exporter.getFinishedSpans();
  const named = (name: string) => finished().find((span) => span.name === name);

  beforeAll(() => provider.register());
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('has no trace id outside a span', () => {
    expect(currentTraceId()).toBeUndefined();
    expect(currentSpanIds()).toBeUndefined();
  });

  it('runs fn inside the span, returns its value and records the attributes', async () => {
    let seen: ReturnType<typeof currentSpanIds>;
    const result = await traced('command Approve', { 'otp.method': 'TOTP', attempts: 2, fresh: true }, async () => {
      seen = currentSpanIds();
      return 42;
    });
    expect(result).toBe(42);
    const span = named('command Approve');
    expect(span?.attributes).toEqual({ 'otp.method': 'TOTP', attempts: 2, fresh: true });
    expect(seen).toEqual({ trace_id: span?.spanContext().traceId, span_id: span?.spanContext().spanId });
    expect(seen?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('parents nested spans on the enclosing one, also across concurrent calls', async () => {
    const run = (tag: string) =>
      traced(`outer ${tag}`, {}, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return traced(`inner ${tag}`, {}, async () => currentTraceId());
      });
    const [a, b] = await Promise.all([run('a'), run('b')]);

    for (const [tag, traceId] of [['a', a], ['b', b]] as const) {
      const outer = named(`outer ${tag}`)!;
      const inner = named(`inner ${tag}`)!;
      expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
      expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
      expect(traceId).toBe(outer.spanContext().traceId);
    }
    expect(a).not.toBe(b);
  });

  it('records the exception, sets ERROR status and rethrows the same error', async () => {
    const failure = new Error('store unavailable');
    await expect(traced('command Fail', {}, async () => Promise.reject(failure))).rejects.toBe(failure);

    const span = named('command Fail');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'store unavailable' });
    expect(span?.events.map((event) => event.name)).toEqual(['exception']);
    expect(span?.events[0]?.attributes?.['exception.message']).toBe('store unavailable');
  });

  it('ends the span only when the promise settles', async () => {
    let release!: () => void;
    const pending = traced('command Slow', {}, () => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(named('command Slow')).toBeUndefined();
    release();
    await pending;
    expect(named('command Slow')?.ended).toBe(true);
  });

  it('flushTraces exports spans still waiting in a batch', async () => {
    await traced('command Batched', {}, async () => undefined);
    expect(batched.getFinishedSpans().some((span) => span.name === 'command Batched')).toBe(false);
    await flushTraces();
    expect(batched.getFinishedSpans().some((span) => span.name === 'command Batched')).toBe(true);
  });
});

describe('OpenTelemetry tracer port, spans not recorded (no exporter: AlwaysOffSampler)', () => {
  const provider = new NodeTracerProvider({ sampler: new AlwaysOffSampler() });
  // Made once this provider is the global one: a tracer taken earlier stays the first block's.
  let traced: ReturnType<typeof createOtelTracer>;

  beforeAll(() => {
    provider.register();
    traced = createOtelTracer();
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('runs fn in the enclosing span, so log lines keep its ids, and passes its value and errors through', async () => {
    const outer = trace.getTracer('test').startSpan('GET /x');
    expect(outer.isRecording()).toBe(false);
    const ids = { trace_id: outer.spanContext().traceId, span_id: outer.spanContext().spanId };
    const seen = await context.with(trace.setSpan(context.active(), outer), () => traced('command Quiet', {}, async () => currentSpanIds()));
    expect(seen).toEqual(ids);
    const failure = new Error('no');
    await expect(traced('command Fails', {}, async () => Promise.reject(failure))).rejects.toBe(failure);
    expect(await traced('command Value', {}, async () => 7)).toBe(7);
  });

  it("outside any span (the delivery worker's steps) makes its span current, so log lines carry a trace id, nested spans included", async () => {
    expect(currentSpanIds()).toBeUndefined();
    const seen = await traced('deliver challenge', {}, async () => {
      const outer = currentSpanIds();
      const inner = await traced('command Challenge', {}, async () => currentSpanIds());
      return { outer, inner };
    });
    expect(seen.outer?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.outer?.span_id).toMatch(/^[0-9a-f]{16}$/);
    // The command inside keeps the step's ids (it is not made current inside a span).
    expect(seen.inner).toEqual(seen.outer);
    expect(currentSpanIds()).toBeUndefined();
    // Each step a trace of its own.
    const again = await traced('deliver challenge', {}, async () => currentTraceId());
    expect(again).not.toBe(seen.outer?.trace_id);
    // A synchronous throw is still a rejection.
    const failure = new Error('sync');
    await expect(traced('deliver challenge', {}, (() => {
      throw failure;
    }) as () => Promise<never>)).rejects.toBe(failure);
  });
});

describe('flushTelemetryWithin', () => {
  it('says flushed when the flush ends in time', async () => {
    expect(await flushTelemetryWithin(1000, async () => undefined)).toEqual({ flushed: true });
  });

  it('gives up after the limit on a flush that never ends (a silent collector)', async () => {
    const started = Date.now();
    expect(await flushTelemetryWithin(50, () => new Promise<void>(() => undefined))).toEqual({ flushed: false, reason: 'timed out' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('never rejects: a failed export is said by its code or name, never its message', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:4318 Authorization: Bearer s3cret'), { code: 'ECONNREFUSED' });
    expect(await flushTelemetryWithin(1000, () => Promise.reject(refused))).toEqual({ flushed: false, reason: 'failed', error: 'ECONNREFUSED' });
    const named = new Error('Bad Request: api-key s3cret');
    named.name = 'OTLPExporterError';
    expect(await flushTelemetryWithin(1000, () => Promise.reject(named))).toEqual({ flushed: false, reason: 'failed', error: 'OTLPExporterError' });
    expect(await flushTelemetryWithin(1000, () => {
      throw 's3cret';
    })).toEqual({ flushed: false, reason: 'failed', error: 'string' });
  });
});
