/** Reads the standard OTEL_* variables that decide whether spans leave the process. */

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

export const traceExportSettings = (env: NodeJS.ProcessEnv): TraceExportSettings => {
  const exporters = listFromEnv(env['OTEL_TRACES_EXPORTER']);
  const endpointSet = [env['OTEL_EXPORTER_OTLP_ENDPOINT'], env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']].some(
    (value) => (value ?? '').trim() !== '',
  );
  // Unlike the SDK default we do not export to localhost:4318 unless asked: a service
  // started without a collector should not log export failures forever.
  const wanted = exporters.includes('none') ? false : endpointSet || exporters.includes('otlp');
  return {
    serviceName: (env['OTEL_SERVICE_NAME'] ?? '').trim() || defaultServiceName,
    export: wanted,
  };
};
