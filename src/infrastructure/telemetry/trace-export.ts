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

/** The samplers OTEL_TRACES_SAMPLER names, by the decision they make for a trace of their own. */
export type RootSampling = { readonly kind: 'always_on' } | { readonly kind: 'always_off' } | { readonly kind: 'ratio'; readonly ratio: number };

/**
 * How a trace that starts here, or continues a caller's, is sampled: OTEL_TRACES_SAMPLER's
 * sampler without its `parentbased_` part (every trace when unset or not one of these, as the
 * SDK defaults), OTEL_TRACES_SAMPLER_ARG its ratio (1 when missing or outside [0, 1]).
 * register.ts applies it to a caller's trace too, whatever the caller's `traceparent` says
 * (its sampled flag is the caller's to set: honouring `-00` would let a client keep its
 * verification attempts out of the traces); spans inside one follow it.
 */
export const rootSampling = (env: NodeJS.ProcessEnv): RootSampling => {
  const name = (env['OTEL_TRACES_SAMPLER'] ?? '').trim().toLowerCase().replace(/^parentbased_/, '');
  if (name === 'always_off') return { kind: 'always_off' };
  if (name !== 'traceidratio') return { kind: 'always_on' };
  const arg = (env['OTEL_TRACES_SAMPLER_ARG'] ?? '').trim();
  const ratio = arg === '' ? Number.NaN : Number(arg);
  return { kind: 'ratio', ratio: ratio >= 0 && ratio <= 1 ? ratio : 1 };
};

const otlpDefault = 'http://localhost:4318';

/** A host name as the http instrumentation gives it: lower case, an IPv6 address without brackets. */
const bare = (host: string): string => host.toLowerCase().replace(/^\[(.*)\]$/, '$1');

/** `host:port` of a URL (the scheme's port when it names none), or undefined when it does not parse. */
const originOf = (url: string): string | undefined => {
  try {
    const { hostname, port, protocol } = new URL(url);
    return `${bare(hostname)}:${port || (protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return undefined;
  }
};

/**
 * Where the OTLP exporters send (`host:port`, each signal's own endpoint, else the shared one,
 * else the SDK's localhost:4318): outgoing calls there are the exporters' own, which the http
 * instrumentation must not measure as the service's (http.client.request.duration would count
 * every export).
 */
export const otlpOrigins = (env: NodeJS.ProcessEnv): ReadonlySet<string> => {
  const shared = (env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '').trim();
  const origins = new Set<string>();
  for (const signal of ['TRACES', 'METRICS', 'LOGS']) {
    const origin = originOf((env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`] ?? '').trim() || shared || otlpDefault);
    if (origin !== undefined) origins.add(origin);
  }
  return origins;
};

/** What the http instrumentation knows of an outgoing request. */
export type OutgoingRequest = { readonly hostname?: string | null; readonly host?: string | null; readonly port?: number | string | null; readonly protocol?: string | null };

/** Whether an outgoing request goes to one of `origins` (`otlpOrigins`). */
export const goesTo =
  (origins: ReadonlySet<string>) =>
  (request: OutgoingRequest): boolean => {
    const host = bare(request.hostname ?? request.host ?? 'localhost');
    const port = request.port === undefined || request.port === null || request.port === '' ? (request.protocol === 'https:' ? '443' : '80') : String(request.port);
    return origins.has(`${host}:${port}`);
  };
