import { describe, expect, it } from '@jest/globals';
import { metricExportSettings, traceExportSettings } from '../../../src/infrastructure/telemetry/trace-export.js';

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
