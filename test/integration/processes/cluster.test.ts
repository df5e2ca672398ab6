/**
 * WEB_CONCURRENCY: when one of the service processes dies, the primary forks another, which
 * binds the shared port only once it is built while a sibling serves: until then its siblings
 * answer every request, and none is answered 503 "starting" by the newcomer. With no sibling
 * left it binds at once, so liveness answers while it starts. The primary's lines are JSON, and
 * a stop while a process is still starting is a clean stop (exit 0). The primary counts each
 * exit in the metric otp_verify.process.exits.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATION_LOCK } from '../../../src/infrastructure/postgres/migrate.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver.js';
import { createTestSchema, testDatabaseUrl } from '../../support/postgres.js';
import { deploymentSecrets, startServiceProcess, stopAllServiceProcesses, tempDir, type ServiceProcess } from '../../support/service-process.js';

/** One request on a connection of its own, so the cluster hands each to a process anew. */
const statusOf = (url: string, path = '/health/ready'): Promise<number> =>
  new Promise((resolve) => {
    const req = request(`${url}${path}`, { agent: false, headers: { connection: 'close' }, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });

type Line = { msg?: string; pid?: number; binds?: string };
const linesOf = (service: ServiceProcess, msg: string): Line[] => service.lines.map((line) => JSON.parse(line) as Line).filter((line) => line.msg === msg);
const until = async (what: string, done: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('a cluster replacing a process', () => {
  const dir = tempDir('cluster');
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await stopAllServiceProcesses();
    await receiver?.close();
    dir.remove();
  });

  /** A primary with two processes on a fresh schema, both listening. */
  const cluster = async (body: (service: ServiceProcess) => Promise<void>) => {
    const schema = await createTestSchema();
    try {
      const service = await startServiceProcess({
        env: {
          DATA_DIR: dir.path,
          OUTBOX_FILE: join(dir.path, 'outbox.jsonl'),
          DATABASE_URL: schema.url,
          WEB_CONCURRENCY: '2',
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
          OTEL_METRIC_EXPORT_INTERVAL: '200',
          OTEL_SERVICE_NAME: 'otp-verify-cluster-test',
          ...deploymentSecrets(),
        },
      });
      await until('two processes listening', () => linesOf(service, 'listening').length >= 2);
      await body(service);
    } finally {
      await stopAllServiceProcesses();
      await schema.drop();
    }
  };

  it('answers every request from the running processes while the replacement starts', async () => {
    await cluster(async (service) => {
      const [victim] = linesOf(service, 'listening');
      process.kill(victim!.pid!, 'SIGKILL');
      const replacing = await service.waitForLine((line) => line.includes('"msg":"a service process exited: starting another"'));
      // From the primary's noticing (the replacement forks 2 s later) until the replacement
      // says it listens, and a moment after: every answer a 200.
      const statuses: number[] = [];
      const deadline = Date.now() + 30_000;
      let after = 0;
      while (Date.now() < deadline && after < 20) {
        statuses.push(await statusOf(service.url));
        if (linesOf(service, 'listening').length >= 3) after++;
      }
      expect(linesOf(service, 'listening')).toHaveLength(3);
      // The primary's line is JSON like the rest, naming the process and how it ended.
      // The other process was built, but has not served for a minute yet: a death at start still
      // counts toward giving up (it would not once the other had).
      expect(JSON.parse(replacing)).toMatchObject({ level: 'error', pid: expect.any(Number), process_pid: victim!.pid, exit: 'SIGKILL', retry_in_ms: 2000, others_built: 1, others_serving: false });
      expect(linesOf(service, 'starting').at(-1)).toMatchObject({ binds: 'once built' });
      expect(statuses.length).toBeGreaterThan(50);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      // Counted by the primary, whose metrics export like its processes'.
      const exits = await receiver.waitForPoints((points) => points.some((point) => point.metric === 'otp_verify.process.exits'), 20_000);
      expect(exits.filter((point) => point.metric === 'otp_verify.process.exits').at(-1)).toMatchObject({
        serviceName: 'otp-verify-cluster-test',
        attributes: { outcome: 'restarted', others_serving: false },
        value: 1,
      });
      expect(await service.stop()).toEqual({ code: 0, signal: null });
    });
  }, 60_000);

  it('binds a replacement at once when no process is left serving, and stops cleanly while it starts', async () => {
    await cluster(async (service) => {
      // Another process migrating: replacements wait in their start for as long as the test likes.
      const holder = new pg.Client({ connectionString: testDatabaseUrl() });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        for (const { pid } of linesOf(service, 'listening')) process.kill(pid!, 'SIGKILL');
        await until('a replacement starting', () => linesOf(service, 'starting').length >= 3);
        // Nothing else serves: it binds before it is built, so liveness answers while it starts.
        expect(linesOf(service, 'starting')[2]).not.toHaveProperty('binds');
        expect(await statusOf(service.url, '/health/live')).toBe(200);
        expect(await statusOf(service.url, '/health/ready')).toBe(503);
        // Stopped before it is built: a clean stop, as any stop.
        expect(await service.stop()).toEqual({ code: 0, signal: null });
        expect(linesOf(service, 'stopped while starting').length).toBeGreaterThanOrEqual(1);
      } finally {
        await holder.end();
      }
    });
  }, 60_000);
});
