/** Shared checks for the provider senders: how a failure is classified, and that it leaks nothing. */
import { expect } from '@jest/globals';
import { inspect } from 'node:util';
import { DeliveryFailure } from '../../../src/application/ports.js';

type Expected = { provider: string; permanent: boolean; retryAfterSeconds?: number };

/** Runs `fn` while recording everything written to the console and to stdout/stderr. */
export const captureOutput = async <T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; output: string }> => {
  const lines: string[] = [];
  const record = (...args: unknown[]) => void lines.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 10 }))).join(' '));
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = methods.map((name) => console[name]);
  const writes = [process.stdout.write, process.stderr.write];
  for (const name of methods) console[name] = record;
  const write = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
  try {
    const [result] = await Promise.allSettled([fn()]);
    return { result: result!, output: lines.join('\n') };
  } finally {
    methods.forEach((name, i) => (console[name] = saved[i]!));
    [process.stdout.write, process.stderr.write] = writes as [typeof process.stdout.write, typeof process.stderr.write];
  }
};

/**
 * Sends, expects a DeliveryFailure classified as `expected`, and checks that neither the error
 * (message, inspection, JSON) nor any output written meanwhile contains one of `secrets`.
 */
export const expectFailure = async (send: () => Promise<void>, expected: Expected, secrets: readonly string[]): Promise<DeliveryFailure> => {
  const { result, output } = await captureOutput(send);
  expect(result.status).toBe('rejected');
  const error = (result as PromiseRejectedResult).reason as unknown;
  expect(error).toBeInstanceOf(DeliveryFailure);
  const failure = error as DeliveryFailure;
  expect({ provider: failure.provider, permanent: failure.permanent, retryAfterSeconds: failure.retryAfterSeconds }).toEqual({
    provider: expected.provider,
    permanent: expected.permanent,
    retryAfterSeconds: expected.retryAfterSeconds,
  });
  const texts = [failure.message, String(failure), inspect(failure, { depth: Infinity, showHidden: true }), JSON.stringify(failure), output];
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThanOrEqual(4);
    for (const text of texts) expect(text).not.toContain(secret);
  }
  return failure;
};
