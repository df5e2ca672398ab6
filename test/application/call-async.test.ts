import { describe, expect, it } from '@jest/globals';
import { callAsync } from '../../src/application/call-async.js';
import { createKeyedLock } from '../../src/application/keyed-lock.js';

describe('callAsync', () => {
  it('passes values and rejections through, and turns a synchronous throw into a rejection', async () => {
    const failure = new Error('sync');
    expect(await callAsync(() => 1)).toBe(1);
    expect(await callAsync(async () => 2)).toBe(2);
    await expect(callAsync(async () => Promise.reject(failure))).rejects.toBe(failure);
    let thrown: unknown;
    const result = (() => {
      try {
        return callAsync((): number => {
          throw failure;
        });
      } catch (error) {
        thrown = error;
        return undefined;
      }
    })();
    expect(thrown).toBeUndefined();
    await expect(result).rejects.toBe(failure);
  });
});

describe('keyed lock', () => {
  it('runs work on one key in order, and a synchronous throw rejects without holding the key', async () => {
    const lock = createKeyedLock();
    const order: string[] = [];
    const slow = lock('k', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push('first');
    });
    const next = lock('k', async () => void order.push('second'));
    await Promise.all([slow, next]);
    expect(order).toEqual(['first', 'second']);
    const failure = new Error('sync');
    const throwing = (): Promise<never> => {
      throw failure;
    };
    await expect(lock('k', throwing)).rejects.toBe(failure);
    expect(await lock('k', async () => 'free again')).toBe('free again');
  });
});
