import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { NodeTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/infrastructure/logging/logger.js';
import { currentRequestId, runWithRequestContext } from '../../../src/infrastructure/logging/request-context.js';
import { createOtelTracer, currentSpanIds } from '../../../src/infrastructure/telemetry/tracer.js';

const capture = (level = 'debug') => {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const raw = () => chunks.join('');
  const lines = () =>
    raw()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger: createLogger({ level, destination }), raw, lines };
};

describe('pino logger', () => {
  const provider = new NodeTracerProvider({ spanProcessors: [new NoopSpanProcessor()] });
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('writes one JSON object per line with a level label, an ISO time and msg', () => {
    const { logger, raw, lines } = capture();
    logger.info('started', { port: 8000 });
    logger.warn('slow');
    expect(raw().split('\n')).toHaveLength(3);
    const [first, second] = lines();
    expect(first).toMatchObject({ level: 'info', msg: 'started', port: 8000 });
    expect(new Date(first?.['time'] as string).toISOString()).toBe(first?.['time']);
    expect(second).toMatchObject({ level: 'warn', msg: 'slow' });
    expect(first).not.toHaveProperty('request_id');
    expect(first).not.toHaveProperty('trace_id');
  });

  it('adds the pid only when asked (processes sharing one stdout), and never the host name', () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    createLogger({ level: 'info', destination, pid: true }).info('with pid');
    createLogger({ level: 'info', destination }).info('without');
    const [withPid, without] = chunks.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(withPid).toMatchObject({ msg: 'with pid', pid: process.pid });
    expect(without).not.toHaveProperty('pid');
    expect(withPid).not.toHaveProperty('hostname');
  });

  it('honours the level', () => {
    const { logger, lines } = capture('warn');
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');
    expect(lines().map((line) => [line['level'], line['msg']])).toEqual([
      ['warn', 'c'],
      ['error', 'd'],
    ]);
    const silent = capture('silent');
    silent.logger.error('nothing');
    expect(silent.raw()).toBe('');
  });

  it('adds request_id from the request context and trace_id/span_id from the active span', async () => {
    const { logger, lines } = capture();
    const traced = createOtelTracer();
    let ids: ReturnType<typeof currentSpanIds>;
    await runWithRequestContext({ request_id: 'req-42' }, async () => {
      expect(currentRequestId()).toBe('req-42');
      await new Promise((resolve) => setTimeout(resolve, 1));
      await traced('command Test', {}, async () => {
        ids = currentSpanIds();
        logger.info('inside');
      });
    });
    expect(currentRequestId()).toBeUndefined();
    expect(ids?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(lines()[0]).toMatchObject({ msg: 'inside', request_id: 'req-42', trace_id: ids?.trace_id, span_id: ids?.span_id });
  });

  it('never prints secrets passed by mistake, whatever the case or nesting', () => {
    const { logger, raw, lines } = capture();
    logger.error('oops', {
      password: 'hunter2',
      nested: { otp: '123456', Authorization: 'Bearer eyJtop', deeper: { API_KEY: 'ak_live_1', keep: 'visible' } },
      list: [{ Seed: 'JBSWY3DPEHPK3PXP' }],
      'X-Api-Key': 'key-abc',
      access_token: 'tok-1',
      recovery_codes: ['rc-1', 'rc-2'],
      to: '+34600000000',
      destination: 'a@b.example',
      code: '654321',
      secret: 's3',
      token: 't0k',
      apikey: 'k2',
    });
    for (const secret of ['hunter2', '123456', 'eyJtop', 'ak_live_1', 'JBSWY3DPEHPK3PXP', 'key-abc', 'tok-1', 'rc-1', '+34600000000', 'a@b.example', '654321', 's3', 't0k', 'k2']) {
      expect(raw()).not.toContain(secret);
    }
    const [line] = lines();
    expect(line?.['password']).toBe('[REDACTED]');
    expect(line?.['nested']).toEqual({
      otp: '[REDACTED]',
      Authorization: '[REDACTED]',
      deeper: { API_KEY: '[REDACTED]', keep: 'visible' },
    });
  });

  it('does not print values nested deeper than it checks', () => {
    const { logger, raw } = capture();
    logger.info('deep', { a: { b: { c: { password: 'hidden-deep' } } } });
    expect(raw()).not.toContain('hidden-deep');
  });

  it('logs errors with their message and stack, and survives circular fields', () => {
    const { logger, lines } = capture();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular['self'] = circular;
    logger.error('failed', { error: new TypeError('bad input'), circular });
    const [line] = lines();
    expect(line?.['error']).toMatchObject({ type: 'TypeError', message: 'bad input' });
    expect(String((line?.['error'] as { stack: string }).stack)).toContain('TypeError: bad input');
    expect(line?.['circular']).toEqual({ name: 'loop', self: '[Circular]' });
  });
});
