/**
 * A statement run for many requests at once (grouped look-ups, group commit) belongs to none of
 * them. Run in the context of whichever request started the queue, its database spans landed in
 * that request's trace, and under load the queue kept running in that one context: a review
 * found 76% of PostgreSQL spans starting after their request had ended (up to 785 ms), one
 * trace holding 146 queries, and most requests showing none of their own.
 *
 * So each statement runs outside every request's context. When some of the callers are traced,
 * it gets a span of its own, in a trace of its own, linked to each of their spans: their traces
 * point to it, and its database spans are its children. Without a traced caller it makes no
 * span (database spans need a parent: register.ts), as background work does not.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { contextStorage } from '../logging/request-context.js';

const tracer = trace.getTracer('otp-verify');

/** The caller's span, to link a shared statement to, when one is being recorded. */
export const callerLink = (): Link | undefined => {
  const store = contextStorage.getStore();
  const span = store === undefined ? undefined : trace.getSpan(store);
  return span?.isRecording() ? { context: span.spanContext() } : undefined;
};

/** Runs `statement` outside any request's context, under a span linked to `links` when there are any. */
export const runShared = <T>(name: string, links: readonly (Link | undefined)[], statement: () => Promise<T>): Promise<T> => {
  const linked = links.filter((link): link is Link => link !== undefined);
  if (linked.length === 0) return contextStorage.run(ROOT_CONTEXT, statement);
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, links: linked, attributes: { 'otp_verify.batch.callers': links.length } }, ROOT_CONTEXT);
  return contextStorage.run(trace.setSpan(ROOT_CONTEXT, span), statement).then(
    (result) => {
      span.end();
      return result;
    },
    (error: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      span.end();
      throw error;
    },
  );
};
