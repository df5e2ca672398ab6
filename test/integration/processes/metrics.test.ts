/**
 * The projection lag reaches an OTLP collector as the metric otp_verify.projection.lag, one
 * point per projection, and every request as http.server.request.duration, from a real service
 * process on PostgreSQL (metrics export is asked for as in production, with
 * OTEL_EXPORTER_OTLP_ENDPOINT).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { projections } from '../../../src/application/projections/index.js';
import { newApp, newOperator } from '../../support/flows.js';
import { createClient } from '../../support/http-client.js';
import { startOtlpReceiver, type CollectedPoint, type OtlpReceiver } from '../../support/otlp-receiver.js';
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

  it('exports http.server.request.duration by route template and status', async () => {
    const client = createClient(service.url);
    const operator = await newOperator(client);
    const app = await newApp(client, operator.token);
    expect((await client.get(`/api/app/${app.id}`, { token: operator.token })).status).toBe(200);
    expect((await client.get('/api/app/00000000-0000-4000-8000-000000000000', { token: operator.token })).status).toBe(404);
    const durationsOf = (points: readonly CollectedPoint[], route: string, status: number) =>
      points.filter((point) => point.metric === 'http.server.request.duration' && point.attributes['http.route'] === route && point.attributes['http.response.status_code'] === status);
    const points = await receiver.waitForPoints(
      (all) => durationsOf(all, '/api/app/:id', 200).length > 0 && durationsOf(all, '/api/app/:id', 404).length > 0 && durationsOf(all, '/api/app', 201).length > 0,
      20_000,
    );
    const found = durationsOf(points, '/api/app/:id', 200).at(-1)!;
    expect(found).toMatchObject({ serviceName: 'otp-verify-metrics-test', attributes: { 'http.request.method': 'GET', 'url.scheme': 'http' } });
    expect(found.value).toBeGreaterThanOrEqual(1);
    expect(found.sum).toBeGreaterThan(0);
    expect(found.sum).toBeLessThan(found.value * 10);
    // Routes, never paths: an app id in an attribute would make a series per app.
    expect(JSON.stringify(points.filter((point) => point.metric === 'http.server.request.duration'))).not.toContain(app.id);
  });
});
