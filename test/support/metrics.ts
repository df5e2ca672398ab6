import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export type MetricPoint = { readonly name: string; readonly attributes: Readonly<Record<string, unknown>>; readonly value: unknown };

/**
 * A global meter provider whose points a test reads on demand. Install it before creating what
 * takes its meter (instruments are made against the provider in place then); `uninstall` after.
 */
export const installTestMetrics = (): { readonly points: () => Promise<MetricPoint[]>; readonly uninstall: () => void } => {
  const reader = new TestReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return {
    points: async () =>
      (await reader.collect()).resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .flatMap((metric) => metric.dataPoints.map((point) => ({ name: metric.descriptor.name, attributes: point.attributes, value: point.value }))),
    uninstall: () => metrics.disable(),
  };
};

/**
 * A delivery metric's points so far (a counter's value, a histogram's count), by
 * "channel provider outcome".
 */
export const byChannelProviderOutcome = async (telemetry: { readonly points: () => Promise<MetricPoint[]> }, name: string): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await telemetry.points())
      .filter((point) => point.name === name)
      .map(({ attributes, value }) => [
        `${String(attributes['channel'])} ${String(attributes['provider'])} ${String(attributes['outcome'])}`,
        typeof value === 'number' ? value : (value as { count: number }).count,
      ]),
  );
