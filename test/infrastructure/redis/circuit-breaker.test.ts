import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createCircuitBreaker, type CircuitState } from '../../../src/infrastructure/redis/circuit-breaker.js';

const setup = (extra: { probe?: () => Promise<unknown> } = {}) => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const transitions: string[] = [];
  const breaker = createCircuitBreaker({
    name: 'redis',
    clock: () => new Date(now),
    failureThreshold: 3,
    openMs: 1000,
    timeoutMs: 30,
    onStateChange: (to: CircuitState, from: CircuitState) => transitions.push(`${from}->${to}`),
    ...extra,
  });
  let primaryCalls = 0;
  const ok = () => breaker.run(async () => (primaryCalls++, 'primary'), () => 'fallback');
  const fail = () =>
    breaker.run(
      async () => {
        primaryCalls++;
        throw new Error('ECONNREFUSED');
      },
      () => 'fallback',
    );
  return { breaker, ok, fail, transitions, calls: () => primaryCalls, advance: (ms: number) => void (now += ms) };
};

describe('circuit breaker', () => {
  it('answers from the call while closed and from the fallback when a call fails', async () => {
    const { breaker, ok, fail } = setup();
    expect(await ok()).toBe('primary');
    expect(await fail()).toBe('fallback');
    expect(breaker.state()).toBe('closed');
    await expect(breaker.health.check()).resolves.toBeUndefined();
  });

  it('opens after failureThreshold consecutive failures, and only consecutive ones count', async () => {
    const { breaker, ok, fail, calls } = setup();
    await fail();
    await fail();
    await ok();
    await fail();
    await fail();
    expect(breaker.state()).toBe('closed');
    await fail();
    expect(breaker.state()).toBe('open');
    const before = calls();
    expect(await ok()).toBe('fallback');
    expect(calls()).toBe(before);
    await expect(breaker.health.check()).rejects.toThrow('circuit redis is open');
  });

  it('counts a call slower than timeoutMs as a failure and answers with the fallback in time', async () => {
    const { breaker } = setup();
    const never = () => new Promise<string>(() => undefined);
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      expect(await breaker.run(never, () => 'fallback')).toBe('fallback');
      expect(performance.now() - started).toBeLessThan(500);
    }
    expect(breaker.state()).toBe('open');
  });

  it('stays open for openMs, then lets one probe through; its success closes the circuit', async () => {
    const { breaker, ok, fail, calls, advance, transitions } = setup();
    for (let i = 0; i < 3; i++) await fail();
    advance(999);
    expect(breaker.state()).toBe('open');
    advance(1);
    expect(breaker.state()).toBe('half-open');
    await expect(breaker.health.check()).rejects.toThrow('half-open');

    let release: (value: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((resolve) => (release = resolve)), () => 'fallback');
    const before = calls();
    expect(await ok()).toBe('fallback'); // only one probe at a time
    expect(calls()).toBe(before);
    release('probe');
    expect(await probe).toBe('probe');
    expect(breaker.state()).toBe('closed');
    expect(await ok()).toBe('primary');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('opens again for another openMs when the probe fails', async () => {
    const { breaker, ok, fail, advance } = setup();
    for (let i = 0; i < 3; i++) await fail();
    advance(1000);
    expect(await fail()).toBe('fallback');
    expect(breaker.state()).toBe('open');
    advance(999);
    expect(await ok()).toBe('fallback');
    advance(1);
    expect(await ok()).toBe('primary');
    expect(breaker.state()).toBe('closed');
  });

  it('starts counting afresh once closed again', async () => {
    const { breaker, ok, fail, advance } = setup();
    for (let i = 0; i < 3; i++) await fail();
    advance(1000);
    await ok();
    await fail();
    await fail();
    expect(breaker.state()).toBe('closed');
  });

  it('does not let a late failure of an earlier call extend an open circuit', async () => {
    const { breaker, fail, advance } = setup();
    let rejectLate: (error: Error) => void = () => undefined;
    const late = breaker.run(
      () => new Promise<string>((_, reject) => (rejectLate = reject)),
      () => 'fallback',
    );
    for (let i = 0; i < 3; i++) await fail();
    advance(1000);
    rejectLate(new Error('late'));
    await late;
    expect(breaker.state()).toBe('half-open');
  });

  it('lets caller bugs (RangeError) through without counting them', async () => {
    const { breaker } = setup();
    for (let i = 0; i < 5; i++)
      await expect(breaker.run(async () => Promise.reject(new RangeError('limit')), () => 'fallback')).rejects.toThrow(RangeError);
    expect(breaker.state()).toBe('closed');
  });

  it('lets the health check probe a half-open circuit, so it recovers without traffic', async () => {
    let up = false;
    const { breaker, fail, advance } = setup({ probe: async () => (up ? 'PONG' : Promise.reject(new Error('down'))) });
    for (let i = 0; i < 3; i++) await fail();
    await expect(breaker.health.check()).rejects.toThrow('open');
    advance(1000);
    await expect(breaker.health.check()).rejects.toThrow('open'); // the probe failed: open again
    advance(1000);
    up = true;
    await expect(breaker.health.check()).resolves.toBeUndefined();
    expect(breaker.state()).toBe('closed');
  });

  it("does not take the process's own lag for the dependency's: an answer that arrived while the event loop was busy wins over the timer", async () => {
    // Another process that answers at once, standing for Redis on a healthy network (one in this
    // process could not answer while this test keeps the loop busy).
    const server = spawn(process.execPath, ['-e', "const s = require('node:net').createServer((c) => c.on('data', (d) => c.write(d))).listen(0, '127.0.0.1', () => console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = Number(await new Promise<string>((resolve) => server.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk).trim()))));
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      const { breaker } = setup();
      const echo = () => new Promise<string>((resolve) => (socket.once('data', (chunk) => resolve(String(chunk))), socket.write('pong')));
      const answered = breaker.run(echo, () => 'fallback');
      // The loop is busy for well past the 30 ms timeout; the answer is back meanwhile.
      const until = Date.now() + 500;
      while (Date.now() < until) {
        // busy, as a burst of password hashes keeps it
      }
      expect(await answered).toBe('pong');
      // A call that really does not answer in time still gets the fallback.
      expect(await breaker.run(() => new Promise<string>(() => undefined), () => 'fallback')).toBe('fallback');
    } finally {
      socket.destroy();
      server.kill();
    }
  });
});
