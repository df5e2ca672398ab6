/**
 * Runs the compiled bootstrap the way production does (node --import register.js app.mjs)
 * against a local OTLP receiver, with the app's own HTTP server span middleware.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { SpanKind, startOtlpReceiver, type CollectedSpan, type OtlpReceiver } from '../../support/otlp-receiver.js';

const root = resolve('.');
// Compiled apart from dist/ so the test neither races nor depends on a full build.
const buildDir = join(root, 'node_modules', '.cache', 'otp-verify-telemetry-test');
const telemetryDir = join(buildDir, 'out', 'infrastructure', 'telemetry');
const fixture = join(root, 'test', 'fixtures', 'tiny-koa-app.mjs');

const compileTelemetry = async (): Promise<void> => {
  await mkdir(buildDir, { recursive: true });
  const src = join(root, 'src', 'infrastructure', 'telemetry');
  const tsconfig = {
    extends: join(root, 'tsconfig.build.json'),
    compilerOptions: { rootDir: join(root, 'src'), outDir: join(buildDir, 'out'), sourceMap: false },
    include: [],
    files: [join(src, 'register.ts'), join(src, 'tracer.ts'), join(src, 'http-server-span.ts')],
  };
  await writeFile(join(buildDir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', join(buildDir, 'tsconfig.json')], { timeout: 120_000 }).catch(
    (error: { stdout?: string }) => {
      // tsc still emits on type errors elsewhere in the program; only a missing output is fatal.
      if (!existsSync(join(telemetryDir, 'register.js'))) throw new Error(`tsc failed: ${error.stdout ?? String(error)}`);
    },
  );
};

type App = {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Every stdout line after the first ({"port":N}) so far. */
  readonly lines: string[];
};

const startApp = (env: Record<string, string>): Promise<App> => {
  const child = spawn(process.execPath, ['--import', join(telemetryDir, 'register.js'), fixture], {
    env: { PATH: process.env['PATH'] ?? '', TELEMETRY_DIR: telemetryDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  const lines: string[] = [];
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start: ${stderr}`)), 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{"port":')) return void lines.push(line);
      clearTimeout(timer);
      resolvePort({ port: (JSON.parse(line) as { port: number }).port, child, exited, lines });
    });
    void exited.then(({ code }) => reject(new Error(`app exited early (${code}): ${stderr}`)));
  });
};

const hello = async (app: App, headers: Record<string, string> = {}): Promise<string | null> => {
  const response = await fetch(`http://127.0.0.1:${app.port}/hello`, { headers });
  expect(response.status).toBe(200);
  return ((await response.json()) as { trace_id: string | null }).trace_id;
};

const byId = (spans: readonly CollectedSpan[], id: string | undefined) => spans.find((span) => span.spanId === id);
const traceOf = (spans: readonly CollectedSpan[]) => {
  const command = spans.find((span) => span.name === 'command Test');
  const server = byId(spans, command?.parentSpanId);
  return { command, server };
};
const complete = (spans: readonly CollectedSpan[]) => traceOf(spans).server !== undefined;

describe('telemetry bootstrap (node --import register.js)', () => {
  let receiver: OtlpReceiver;
  let app: App | undefined;

  beforeAll(compileTelemetry, 120_000);
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    if (app?.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    app = undefined;
    await receiver.close();
  });

  it('exports the HTTP server span and a child span of the tracer port in one trace', async () => {
    app = await startApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SERVICE_NAME: 'otp-verify-test',
    });
    const traceId = await hello(app);

    const { command, server } = traceOf(await receiver.waitForSpans(complete, 10_000));
    expect(server).toMatchObject({ kind: SpanKind.SERVER, name: 'GET /hello', parentSpanId: undefined });
    expect(server?.attributes).toMatchObject({ 'http.route': '/hello', 'http.request.method': 'GET', 'url.path': '/hello', 'http.response.status_code': 200 });
    expect(command?.attributes['otp.test']).toBe(true);
    expect(new Set([command?.traceId, server?.traceId, traceId])).toEqual(new Set([traceId]));
    expect(command?.serviceName).toBe('otp-verify-test');
  });

  it('traces outgoing node:http calls and continues the trace in the called server', async () => {
    app = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
    const response = await fetch(`http://127.0.0.1:${app.port}/chain`);
    const { trace_id: traceId } = (await response.json()) as { trace_id: string };
    const spans = await receiver.waitForSpans((all) => all.filter((s) => s.kind === SpanKind.SERVER).length === 2 && all.some((s) => s.kind === SpanKind.CLIENT), 10_000);
    const outer = spans.find((s) => s.name === 'GET /chain');
    const client = spans.find((s) => s.kind === SpanKind.CLIENT);
    const inner = spans.find((s) => s.name === 'GET /hello');
    expect(client?.parentSpanId).toBe(outer?.spanId);
    expect(inner?.parentSpanId).toBe(client?.spanId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
  });

  it("traces a request whatever the caller's sampled flag says, in the caller's trace", async () => {
    app = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
    const upstream = '4bf92f3577b34da6a3ce929d0e0e4736';
    // -00: not sampled upstream. A client sets it as it likes: it must not keep its requests out.
    expect(await hello(app, { traceparent: `00-${upstream}-00f067aa0ba902b7-00` })).toBe(upstream);
    const { server, command } = traceOf(await receiver.waitForSpans(complete, 10_000));
    expect(server).toMatchObject({ name: 'GET /hello', traceId: upstream, parentSpanId: '00f067aa0ba902b7' });
    expect(command?.traceId).toBe(upstream);
  });

  it('keeps OTEL_TRACES_SAMPLER: always_off exports no request, whatever its traceparent says', async () => {
    app = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_TRACES_SAMPLER: 'always_off' });
    const upstream = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(await hello(app, { traceparent: `00-${upstream}-00f067aa0ba902b7-01` })).toBe(upstream);
    expect(await hello(app)).toMatch(/^[0-9a-f]{32}$/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.spans()).toEqual([]);
  });

  it("says once a minute, as a JSON line, that exports fail, without the OTLP headers", async () => {
    // A port nothing listens on: every export is refused.
    const closed = await startOtlpReceiver();
    const url = closed.url;
    await closed.close();
    app = await startApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=sk_live_s3cret_header_value,authorization=Bearer%20s3cret-bearer',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    });
    const diagnostics = () => app!.lines.filter((line) => line.includes('"telemetry: OpenTelemetry reported a problem"'));
    for (let i = 0; i < 5; i++) await hello(app);
    const deadline = Date.now() + 10_000;
    while (diagnostics().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 5; i++) await hello(app);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const lines = diagnostics().map((line) => JSON.parse(line) as { level: string; otel_diagnostic: string });
    expect(lines.length).toBeGreaterThan(0);
    // One line per kind of message, however many exports failed.
    const kinds = lines.map((line) => line.otel_diagnostic.replace(/\d+/g, '#'));
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(lines.some((line) => /ECONNREFUSED/.test(line.otel_diagnostic))).toBe(true);
    expect(lines.every((line) => !line.otel_diagnostic.includes(' at '))).toBe(true); // no stack
    expect(app.lines.join('\n')).not.toMatch(/s3cret/);
  }, 30_000);

  it("measures the service's outgoing calls, not the exporters' own POSTs to the collector", async () => {
    app = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_METRIC_EXPORT_INTERVAL: '200' });
    for (let i = 0; i < 3; i++) await fetch(`http://127.0.0.1:${app.port}/chain`);
    const port = (point: { attributes: Readonly<Record<string, unknown>> }) => Number(point.attributes['server.port']);
    const clientPoints = (all: readonly { metric: string; attributes: Readonly<Record<string, unknown>> }[]) => all.filter((p) => p.metric === 'http.client.request.duration');
    // Several metric exports (and span exports) after the calls: each would be a point of its own.
    await receiver.waitForPoints((all) => clientPoints(all).some((p) => port(p) === app!.port) && all.filter((p) => p.metric === 'http.server.request.duration').length > 3, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const collector = Number(new URL(receiver.url).port);
    expect(clientPoints(receiver.points()).map(port)).not.toContain(collector);
    expect(receiver.spans().filter((s) => s.kind === SpanKind.CLIENT && Number(s.attributes['server.port']) === collector)).toEqual([]);
  });

  it('flushes pending spans on SIGTERM and still lets the signal end the process', async () => {
    // A long batch delay: the spans can only arrive through the shutdown flush.
    app = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '60000' });
    await hello(app);
    expect(receiver.spans()).toEqual([]);

    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(complete(receiver.spans())).toBe(true);
    expect(receiver.spans()[0]?.serviceName).toBe('otp-verify');
  });

  it('leaves SIGTERM to an app that handles it and flushes when the app drains', async () => {
    app = await startApp({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      FIXTURE_HANDLES_SIGTERM: '1',
    });
    await hello(app);

    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(complete(receiver.spans())).toBe(true);
  });

  it('creates trace ids, continues a caller\'s trace, but exports nothing when OTEL_TRACES_EXPORTER=none', async () => {
    app = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: 'none' });
    const [first, second] = [await hello(app), await hello(app)];
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(second).toMatch(/^[0-9a-f]{32}$/);
    expect(second).not.toBe(first);
    const upstream = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(await hello(app, { traceparent: `00-${upstream}-00f067aa0ba902b7-01` })).toBe(upstream);
    // Nothing to export, so the client instrumentations are not loaded: an outgoing call is
    // made as it would be without the bootstrap, with no trace context added.
    const chained = (await (await fetch(`http://127.0.0.1:${app.port}/chain`)).json()) as { trace_id: string; traceparent: string | null };
    expect(chained.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(chained.traceparent).toBeNull();

    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(receiver.spans()).toEqual([]);
  });
});
