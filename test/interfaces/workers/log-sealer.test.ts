import { describe, expect, it, jest } from '@jest/globals';
import type { SealLog } from '../../../src/application/audit/seal-log.js';
import type { Logger } from '../../../src/application/ports.js';
import { createLogSealer } from '../../../src/interfaces/workers/log-sealer.js';
import { installTestMetrics } from '../../support/metrics.js';

const quietLogger = (): Logger & { errors: string[] } => {
  const errors: string[] = [];
  return { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (message) => void errors.push(message), errors } as Logger & { errors: string[] };
};

describe('the log sealer', () => {
  it('seals once at start, then every interval, and once more when stopped', async () => {
    jest.useFakeTimers();
    try {
      const sealLog = jest.fn<SealLog>(async () => ({ sealed: false }));
      const sealer = createLogSealer({ sealLog, logger: quietLogger(), intervalMs: 10_000 });
      sealer.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(sealLog).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(sealLog).toHaveBeenCalledTimes(2);
      await sealer.stop();
      expect(sealLog).toHaveBeenCalledTimes(3);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(sealLog).toHaveBeenCalledTimes(3);
    } finally {
      jest.useRealTimers();
    }
  });

  it('seals only while it leads, and logs a failing round without stopping', async () => {
    jest.useFakeTimers();
    try {
      let leader = false;
      const logger = quietLogger();
      const sealLog = jest.fn<SealLog>(async () => {
        throw new Error('seals were removed');
      });
      const sealer = createLogSealer({ sealLog, logger, intervalMs: 1000, leadership: { isLeader: () => leader } });
      sealer.start();
      await jest.advanceTimersByTimeAsync(2500);
      expect(sealLog).not.toHaveBeenCalled();
      leader = true;
      await jest.advanceTimersByTimeAsync(2000);
      expect(sealLog).toHaveBeenCalledTimes(2);
      expect(logger.errors).toEqual(['log sealing failed', 'log sealing failed']);
      leader = false;
      await sealer.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('seals within a second of taking the lead, however long its interval, then every interval', async () => {
    jest.useFakeTimers();
    try {
      let leader = false;
      const sealLog = jest.fn<SealLog>(async () => ({ sealed: false }));
      const sealer = createLogSealer({ sealLog, logger: quietLogger(), intervalMs: 60_000, leadership: { isLeader: () => leader } });
      sealer.start(); // the lock is not taken yet (PostgreSQL takes it in the background)
      await jest.advanceTimersByTimeAsync(5000);
      expect(sealLog).not.toHaveBeenCalled();
      leader = true;
      await jest.advanceTimersByTimeAsync(1000);
      expect(sealLog).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(59_000);
      expect(sealLog).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1000);
      expect(sealLog).toHaveBeenCalledTimes(2);
      leader = false;
      await sealer.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('exports failing rounds and how far its seals reach as metrics', async () => {
    const telemetry = installTestMetrics();
    try {
      const points = async () => {
        const byName: Record<string, unknown[]> = {};
        for (const { name, value } of await telemetry.points()) (byName[name] ??= []).push(value);
        return byName;
      };
      let fail = false;
      const sealLog = jest.fn<SealLog>(async () => {
        if (fail) throw new Error('seals were removed');
        return { sealed: true, through: 41, count: 40, position: 42 };
      });
      const sealer = createLogSealer({ sealLog, logger: quietLogger(), intervalMs: 60_000 });
      sealer.start();
      await sealer.stop(); // the round at start, and the last one
      fail = true;
      const failing = createLogSealer({ sealLog, logger: quietLogger(), intervalMs: 60_000 });
      failing.start();
      await failing.stop();
      expect(await points()).toMatchObject({ 'otp_verify.log.sealed_through': [41], 'otp_verify.log.seal_failures': [2] });
    } finally {
      telemetry.uninstall();
    }
  });
});
