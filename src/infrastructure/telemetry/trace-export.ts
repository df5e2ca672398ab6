/** Reads the standard OTEL_* variables that decide whether spans and metrics leave the process. */

export const defaultServiceName = 'otp-verify';

export type TraceExportSettings = {
  readonly serviceName: string;
  /** False: spans are still created (trace ids for logs) but never exported. */
  readonly export: boolean;
};

const listFromEnv = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');

/**
 * Whether a signal is exported: OTEL_<SIGNAL>_EXPORTER=none says no; otherwise an OTLP endpoint
 * (the shared one or the signal's own) or OTEL_<SIGNAL>_EXPORTER=otlp says yes. Unlike the SDK
 * default we do not export to localhost:4318 unless asked: a service started without a
 * collector should not log export failures forever.
 */
const exportWanted = (env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS'): boolean => {
  const exporters = listFromEnv(env[`OTEL_${signal}_EXPORTER`]);
  const endpointSet = [env['OTEL_EXPORTER_OTLP_ENDPOINT'], env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]].some((value) => (value ?? '').trim() !== '');
  return exporters.includes('none') ? false : endpointSet || exporters.includes('otlp');
};

export const traceExportSettings = (env: NodeJS.ProcessEnv): TraceExportSettings => ({
  serviceName: (env['OTEL_SERVICE_NAME'] ?? '').trim() || defaultServiceName,
  export: exportWanted(env, 'TRACES'),
});

export type MetricExportSettings = {
  /** False: instruments are no-ops (the API's default provider) and nothing is exported. */
  readonly export: boolean;
  /** OTEL_METRIC_EXPORT_INTERVAL, default 60 s as in the SDK. */
  readonly intervalMs: number;
};

export const metricExportSettings = (env: NodeJS.ProcessEnv): MetricExportSettings => {
  const interval = Number(env['OTEL_METRIC_EXPORT_INTERVAL']);
  return { export: exportWanted(env, 'METRICS'), intervalMs: Number.isFinite(interval) && interval > 0 ? interval : 60_000 };
};
