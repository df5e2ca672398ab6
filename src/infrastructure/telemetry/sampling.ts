/**
 * How the service samples traces when it exports them (register.ts): OTEL_TRACES_SAMPLER's
 * decision (trace-export.ts) for every trace that reaches it, its own or a caller's, whatever
 * the caller's `traceparent` flag says; spans inside the service follow their parent; and a
 * span of its own trace linked to a sampled span is sampled too.
 */
import { TraceFlags, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import type { RootSampling } from './trace-export.js';

const rootSampler = (sampling: RootSampling): Sampler =>
  sampling.kind === 'always_off' ? new AlwaysOffSampler() : sampling.kind === 'ratio' ? new TraceIdRatioBasedSampler(sampling.ratio) : new AlwaysOnSampler();

/**
 * `root`, except that a span linked to a sampled span is sampled. A statement shared by several
 * requests runs in a trace of its own linked to theirs (postgres/shared-statement.ts): decided
 * on its own trace id, a ratio sampler kept it for a tenth of the sampled requests at 0.1, and
 * the other nine tenths lost their database spans (found by a review).
 */
export const linkAware = (root: Sampler): Sampler => ({
  shouldSample: (context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult =>
    links.some((link) => (link.context.traceFlags & TraceFlags.SAMPLED) !== 0)
      ? { decision: SamplingDecision.RECORD_AND_SAMPLED }
      : root.shouldSample(context, traceId, name, kind, attributes, links),
  toString: () => `LinkAware{${root.toString()}}`,
});

/**
 * Every trace that reaches the service is sampled by `sampling`, whatever a caller's
 * `traceparent` flag says: the SDK's default follows it, and a client sending `-00` kept its
 * verification attempts out of the traces. The caller's trace id is kept either way (a ratio
 * sampler decides on it, so services sampling at one ratio agree).
 */
export const samplerFor = (sampling: RootSampling): Sampler => {
  const root = linkAware(rootSampler(sampling));
  return new ParentBasedSampler({ root, remoteParentSampled: root, remoteParentNotSampled: root });
};
