/** The background work of a process: delivering codes and sealing the log. */
import type { Service } from '../../infrastructure/composition-root.js';
import type { Config } from '../../infrastructure/config/config.js';
import type { Logger } from '../../application/ports.js';
import { createDeliveryWorker } from '../workers/delivery-worker.js';
import { createLogSealer } from '../workers/log-sealer.js';

export type BackgroundWork = {
  readonly start: () => void;
  /** Finishes the sends under way, seals the log a last time and hands the role over. */
  readonly stop: () => Promise<void>;
};

export const createBackgroundWork = (config: Config, service: Service, logger: Logger): BackgroundWork => {
  // One process does the background work (delivering codes, sealing the log); every non-API
  // process stands ready to take over. One lock for both: one connection held, not two.
  const background = config.processRole === 'api' ? undefined : service.leadership('delivery-worker');
  const worker = background && createDeliveryWorker({ handlers: service.handlers, logger, leadership: background });
  // A projection that makes a code due wakes the worker at once, in whichever process it ran.
  // Subscribed before the worker starts, so no wake-up falls between its first poll and this.
  if (worker) service.onDeliveryDue(worker.kick);
  const sealer =
    background && config.logSealIntervalSeconds > 0
      ? createLogSealer({ sealLog: service.sealLog, logger, intervalMs: config.logSealIntervalSeconds * 1000, leadership: background })
      : undefined;
  return {
    start: () => {
      worker?.start();
      sealer?.start();
    },
    stop: async () => {
      await worker?.stop();
      await sealer?.stop();
      await background?.stop();
    },
  };
};
