/**
 * A real service process (embedded storage) stopping while its OTLP collector is down or
 * silent: SIGTERM still ends it soon and cleanly (exit 0), with a warning that telemetry was
 * not exported, instead of waiting for the exporter's own timeout and retries (10 s) and then
 * exiting 1. Spans wait in a batch (OTEL_BSP_SCHEDULE_DELAY of a minute), so the shutdown's
 * flush has something to send.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createClient } from '../support/http-client.js';
import { compileService, processScratch, startServiceProcess } from '../support/service-process.js';

const scratch = processScratch();

/** A collector that takes connections and never answers. */
const silentCollector = async (): Promise<{ url: string; close: () => Promise<void> }> => {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))),
  };
};

/** A port nothing listens on: the collector is down. */
const downCollector = async (): Promise<string> => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
};

const stopsCleanly = async (endpoint: string) => {
  const dir = scratch.dir('telemetry-shutdown');
  const service = await startServiceProcess({
    env: {
      DATA_DIR: dir.path,
      OUTBOX_FILE: join(dir.path, 'outbox.jsonl'),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
    },
  });
  const client = createClient(service.url);
  for (let i = 0; i < 3; i++) expect((await client.get('/health/ready')).status).toBe(200);
  const stoppedAt = Date.now();
  service.kill('SIGTERM');
  const exit = await service.waitForExit(20_000);
  const tookMs = Date.now() - stoppedAt;
  const lines = service.lines.map((line) => JSON.parse(line) as { level?: string; msg?: string; reason?: string; limit_ms?: number });
  return { exit, tookMs, lines };
};

describe('stopping with the OTLP collector out of reach', () => {
  beforeAll(async () => {
    await compileService();
  }, 180_000);
  afterAll(() => scratch.cleanUp());

  it('exits 0 within about 2 s past its other stages when the collector never answers, with a warning', async () => {
    const collector = await silentCollector();
    try {
      const { exit, tookMs, lines } = await stopsCleanly(collector.url);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(tookMs).toBeLessThan(6_000);
      expect(lines.find((l) => l.msg === 'telemetry not exported before exit')).toMatchObject({ level: 'warn', reason: 'timed out', limit_ms: 2000 });
      expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
      expect(lines.some((l) => l.msg === 'shutdown failed' || l.msg === 'shutdown timed out: exiting')).toBe(false);
    } finally {
      await collector.close();
    }
  }, 60_000);

  it('exits 0 soon when the collector is down (connections refused)', async () => {
    const { exit, tookMs, lines } = await stopsCleanly(await downCollector());
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(6_000);
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(lines.some((l) => l.msg === 'shutdown failed' || l.msg === 'shutdown timed out: exiting')).toBe(false);
  }, 60_000);
});
