/**
 * A statement shared by many requests (grouped look-ups, group commit) runs outside every
 * caller's context: under load its queue ran on in the context of whichever request started
 * it, and its database spans landed in that request's trace (a review: 76% of PostgreSQL spans
 * after their request had ended). With traced callers it runs under a span of its own, linked
 * to each caller's span; without, under no span at all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import type pg from 'pg';
import { contextStorage, currentRequestId, runWithRequestContext } from '../../../src/infrastructure/logging/request-context.js';
import { createBatchWriter } from '../../../src/infrastructure/postgres/event-store-batch.js';
import { createGrouped } from '../../../src/infrastructure/postgres/grouped.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

/** What the statement saw of its context: the span it ran under and the request id. */
type Seen = { span: Span | undefined; requestId: string | undefined };
const seeing = (): Seen => {
  const store = contextStorage.getStore();
  return { span: store === undefined ? undefined : trace.getSpan(store), requestId: currentRequestId() };
};

/** `fn` as a request with id `id`, under a recorded span when `traced`. */
const asRequest = <T>(id: string, traced: boolean, fn: () => Promise<T>): { span: Span | undefined; result: Promise<T> } => {
  const span = traced ? tracer.startSpan(`request ${id}`) : undefined;
  const result = contextStorage.run(span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT, () => runWithRequestContext({ request_id: id }, fn));
  return { span, result };
};

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
beforeEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});

describe('statements shared by several requests', () => {
  it('a grouped statement runs outside its callers, under one span linked to each traced caller', async () => {
    const seen: Seen[] = [];
    const grouped = createGrouped<number, number>(async (keys) => {
      seen.push(seeing());
      return keys.map((key) => key * 2);
    }, { spanName: 'grouped test read' });
    const a = asRequest('req-a', true, () => grouped.get(1));
    const b = asRequest('req-b', true, () => grouped.get(2));
    expect(await Promise.all([a.result, b.result])).toEqual([2, 4]);

    expect(seen).toHaveLength(1);
    expect(seen[0]!.requestId).toBeUndefined();
    const [shared] = exporter.getFinishedSpans().filter((span) => span.name === 'grouped test read');
    expect(shared).toBeDefined();
    expect(seen[0]!.span?.spanContext().spanId).toBe(shared!.spanContext().spanId);
    // Its own trace, pointing at both callers' spans.
    expect(shared!.parentSpanContext).toBeUndefined();
    expect(shared!.links.map((link) => link.context.spanId).sort()).toEqual([a.span!.spanContext().spanId, b.span!.spanContext().spanId].sort());
    a.span!.end();
    b.span!.end();
  });

  it('a grouped statement of untraced callers runs under no span and no request', async () => {
    const seen: Seen[] = [];
    const grouped = createGrouped<number, number>(async (keys) => {
      seen.push(seeing());
      return keys;
    });
    await Promise.all([asRequest('req-c', false, () => grouped.get(1)).result, asRequest('req-d', false, () => grouped.get(2)).result]);
    expect(seen).toEqual([{ span: undefined, requestId: undefined }]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it("the group commit's later transactions run in no appender's context, though the first appender started the loop", async () => {
    const seen: Seen[] = [];
    let release: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    // A pool answering the batch statement: every append accepted, the first held until released.
    const pool = {
      query: async (statement: { values: unknown[][] }) => {
        seen.push(seeing());
        if (seen.length === 1) await firstHeld;
        const streams = statement.values[0]!;
        return { rows: streams.map((_, i) => ({ accepted: true, revision: 0, position: String(seen.length * 100 + i) })) };
      },
    } as unknown as pg.Pool;
    const writer = createBatchWriter(pool, { clock: () => new Date(), maxBatch: 100, onCommit: () => undefined });
    const append = (stream: string) => () =>
      new Promise((resolve, reject) => writer.enqueue({ stream, expected: 'no_stream', rows: [], resolve, reject }));
    const first = asRequest('req-first', false, append('s-1'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = asRequest('req-second', false, append('s-2'));
    release();
    await Promise.all([first.result, second.result]);
    expect(seen).toHaveLength(2);
    expect(seen.map((s) => s.requestId)).toEqual([undefined, undefined]);
  });
});
