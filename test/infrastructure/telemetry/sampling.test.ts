/**
 * The service's sampler: OTEL_TRACES_SAMPLER's decision whatever a caller's flag says, and a
 * span linked to a sampled span sampled too (a statement shared by sampled requests).
 */
import { describe, expect, it } from '@jest/globals';
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Link } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { samplerFor } from '../../../src/infrastructure/telemetry/sampling.js';

const traceId = (n: number) => n.toString(16).padStart(32, '0');
const link = (flags: number): Link => ({ context: { traceId: traceId(7), spanId: '00000000000000aa', traceFlags: flags } });
const remoteParent = (flags: number) => trace.setSpanContext(ROOT_CONTEXT, { traceId: traceId(9), spanId: '00000000000000bb', traceFlags: flags, isRemote: true });

describe('the service sampler', () => {
  it('samples a root span linked to a sampled span, whatever the ratio says', () => {
    const sampler = samplerFor({ kind: 'ratio', ratio: 0 });
    expect(sampler.shouldSample(ROOT_CONTEXT, traceId(1), 'group commit', SpanKind.INTERNAL, {}, [link(TraceFlags.SAMPLED)]).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(ROOT_CONTEXT, traceId(1), 'group commit', SpanKind.INTERNAL, {}, [link(TraceFlags.NONE), link(TraceFlags.SAMPLED)]).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampler.shouldSample(ROOT_CONTEXT, traceId(1), 'group commit', SpanKind.INTERNAL, {}, [link(TraceFlags.NONE)]).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(sampler.shouldSample(ROOT_CONTEXT, traceId(1), 'group commit', SpanKind.INTERNAL, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it("decides a caller's trace by its own rule, whatever the caller's flag", () => {
    const on = samplerFor({ kind: 'always_on' });
    const off = samplerFor({ kind: 'always_off' });
    for (const flags of [TraceFlags.NONE, TraceFlags.SAMPLED]) {
      expect(on.shouldSample(remoteParent(flags), traceId(9), 'POST', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
      expect(off.shouldSample(remoteParent(flags), traceId(9), 'POST', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
    }
  });
});
