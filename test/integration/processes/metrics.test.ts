/**
 * The projection lag reaches an OTLP collector as the metric otp_verify.projection.lag, one
 * point per projection, from a real service process on PostgreSQL (metrics export is asked for
 * as in production, with OTEL_EXPORTER_OTLP_ENDPOINT).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { projections } from '../../../src/application/projections/index.js';
import { newApp, newOperator } from '../../support/flows.js';
import { createClient } from '../../support/http-client.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver.js';
import { createTestSchema, type TestSchema } from '../../support/postgres.js';
import { compileService, deploymentSecrets, startServiceProcess, stopAllServiceProcesses, tempDir, type ServiceProcess } from '../../support/service-process.js';

describe('projection lag as an OTLP metric', () => {
  let schema: TestSchema;
  let receiver: OtlpReceiver;
  let dir: ReturnType<typeof tempDir>;
  let service: ServiceProcess;

  beforeAll(async () => {
    await compileService();
    [schema, receiver] = await Promise.all([createTestSchema(), startOtlpReceiver()]);
    dir = tempDir('metrics');
    service = await startServiceProcess({
      env: {
        DATABASE_URL: schema.url,
        DATA_DIR: dir.path,
        OUTBOX_FILE: join(dir.path, 'outbox.jsonl'),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_METRIC_EXPORT_INTERVAL: '200',
        OTEL_SERVICE_NAME: 'otp-verify-metrics-test',
        ...deploymentSecrets(),
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stopAllServiceProcesses();
    await receiver?.close();
    await schema?.drop();
    dir?.remove();
  });

  it('exports one lag point per projection, back to 0 once the projections catch up', async () => {
    const client = createClient(service.url);
    await newApp(client, (await newOperator(client)).token); // events for the accounts and apps projections
    const names = projections.map((projection) => projection.name).sort();
    const caughtUp = await receiver.waitForPoints((points) => {
      const lag = points.filter((point) => point.metric === 'otp_verify.projection.lag');
      const latest = new Map(lag.map((point) => [point.attributes['projection'], point.value]));
      return names.every((name) => latest.get(name) === 0) && lag.length > names.length;
    }, 20_000);
    const lag = caughtUp.filter((point) => point.metric === 'otp_verify.projection.lag');
    expect(new Set(lag.map((point) => point.attributes['projection']))).toEqual(new Set(names));
    expect(lag.every((point) => point.serviceName === 'otp-verify-metrics-test' && Number.isInteger(point.value) && point.value >= 0)).toBe(true);
  });
});
