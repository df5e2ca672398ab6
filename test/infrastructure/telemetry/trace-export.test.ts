import { describe, expect, it } from '@jest/globals';
import { goesTo, metricExportSettings, otlpOrigins, rootSampling, traceExportSettings } from '../../../src/infrastructure/telemetry/trace-export.js';

describe('trace export settings', () => {
  it('exports nothing and names the service otp-verify by default', () => {
    expect(traceExportSettings({})).toEqual({ serviceName: 'otp-verify', export: false });
  });

  it('exports when an OTLP endpoint is set', () => {
    expect(traceExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).export).toBe(true);
    expect(traceExportSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).export).toBe(true);
    expect(traceExportSettings({ OTEL_TRACES_EXPORTER: 'otlp' }).export).toBe(true);
  });

  it('ignores blank endpoints and honours OTEL_TRACES_EXPORTER=none', () => {
    expect(traceExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).export).toBe(false);
    expect(
      traceExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'None' }).export,
    ).toBe(false);
  });

  it('takes the service name from OTEL_SERVICE_NAME', () => {
    expect(traceExportSettings({ OTEL_SERVICE_NAME: 'verify-eu' }).serviceName).toBe('verify-eu');
    expect(traceExportSettings({ OTEL_SERVICE_NAME: '' }).serviceName).toBe('otp-verify');
  });
});

describe('metric export settings', () => {
  it('exports nothing by default, every 60 s when asked', () => {
    expect(metricExportSettings({})).toEqual({ export: false, intervalMs: 60_000 });
    expect(metricExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ export: true, intervalMs: 60_000 });
    expect(metricExportSettings({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }).export).toBe(true);
    expect(metricExportSettings({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '5000' })).toEqual({ export: true, intervalMs: 5000 });
  });

  it('honours OTEL_METRICS_EXPORTER=none, ignores a traces-only endpoint and a bad interval', () => {
    expect(metricExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRICS_EXPORTER: 'none' }).export).toBe(false);
    expect(metricExportSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).export).toBe(false);
    expect(metricExportSettings({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: 'soon' }).intervalMs).toBe(60_000);
  });
});

describe('root sampling (OTEL_TRACES_SAMPLER, applied whatever a caller\'s traceparent says)', () => {
  it('samples every trace by default and for an unknown sampler, as the SDK does', () => {
    expect(rootSampling({})).toEqual({ kind: 'always_on' });
    for (const name of ['always_on', 'parentbased_always_on', 'PARENTBASED_ALWAYS_ON', 'jaeger_remote', ' '])
      expect([name, rootSampling({ OTEL_TRACES_SAMPLER: name })]).toEqual([name, { kind: 'always_on' }]);
  });

  it('keeps always_off and the trace id ratio, parent-based or not', () => {
    expect(rootSampling({ OTEL_TRACES_SAMPLER: 'always_off' })).toEqual({ kind: 'always_off' });
    expect(rootSampling({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' })).toEqual({ kind: 'always_off' });
    expect(rootSampling({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toEqual({ kind: 'ratio', ratio: 0.25 });
    expect(rootSampling({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })).toEqual({ kind: 'ratio', ratio: 0 });
    // Missing or out of range: 1, the SDK's default.
    for (const arg of [undefined, '', 'half', '1.5', '-0.1']) expect(rootSampling({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg })).toEqual({ kind: 'ratio', ratio: 1 });
  });
});

describe('the OTLP endpoints, so the exporters\' own calls are not measured as the service\'s', () => {
  it('takes each signal\'s endpoint, else the shared one, else localhost:4318', () => {
    expect(otlpOrigins({})).toEqual(new Set(['localhost:4318']));
    expect(otlpOrigins({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://Collector:4318' })).toEqual(new Set(['collector:4318']));
    expect(otlpOrigins({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://[::1]:9000/v1/metrics' })).toEqual(
      new Set(['otel.example.com:443', '::1:9000']),
    );
    expect(otlpOrigins({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toEqual(new Set());
  });

  it('tells a request to the collector from the providers\' calls', () => {
    const toCollector = goesTo(otlpOrigins({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces' }));
    expect(toCollector({ hostname: '127.0.0.1', port: 4318, protocol: 'http:' })).toBe(true);
    expect(toCollector({ hostname: '127.0.0.1', port: '4318' })).toBe(true);
    expect(toCollector({ hostname: 'traces.example.com', protocol: 'https:' })).toBe(true);
    expect(toCollector({ hostname: 'traces.example.com', port: '', protocol: 'https:' })).toBe(true);
    expect(toCollector({ hostname: '127.0.0.1', port: 4319 })).toBe(false);
    expect(toCollector({ hostname: 'api.twilio.com', protocol: 'https:' })).toBe(false);
    expect(toCollector({ host: 'traces.example.com', port: 80 })).toBe(false);
  });
});
