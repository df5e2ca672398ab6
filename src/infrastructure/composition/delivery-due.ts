/**
 * What `Storage.onDeliveryDue` is made of. On PostgreSQL: a signal for the projection runner
 * (a NOTIFY from the transaction of a page that makes a code due) and a LISTEN for it, opened
 * with the first subscriber, which tells subscribers once whenever it is in place (notifications
 * before it were not heard); the process that projects hears its own NOTIFY like any other.
 * Embedded: a filter on this process's projections (`onApplied`).
 */
import type { Logger } from '../../application/ports.js';
import type { ProjectionChange } from '../../application/read-models.js';
import type { ListenOptions, Listener } from '../postgres/listen.js';
import type { ProjectionSignal } from '../postgres/projection-runner.js';

/** The channel on PostgreSQL (database-wide, like every channel). */
export const DELIVERIES_DUE_CHANNEL = 'otp_verify_deliveries_due';

export type DeliveryDueSignalOptions = {
  /** Whether projected changes made a delivery due. */
  readonly isDeliveryDue: (changes: readonly ProjectionChange[]) => boolean;
  readonly logger: Logger;
  /** On PostgreSQL: where and how to LISTEN (listen.ts). */
  readonly listen?: { readonly connectionString: string; readonly open: (options: ListenOptions) => Listener };
};

export type DeliveryDueSignal = {
  /** For the PostgreSQL projection runner. */
  readonly signal: ProjectionSignal;
  /** For the embedded read models. */
  readonly onApplied: (changes: readonly ProjectionChange[]) => void;
  /** Storage.onDeliveryDue. */
  readonly subscribe: (listener: () => void) => () => void;
  readonly close: () => Promise<void>;
};

export const createDeliveryDueSignal = (options: DeliveryDueSignalOptions): DeliveryDueSignal => {
  const { isDeliveryDue, logger } = options;
  const listeners = new Set<() => void>();
  const tell = (): void => {
    for (const listener of listeners)
      try {
        listener();
      } catch (error) {
        logger.error('delivery-due listener failed', { error: error instanceof Error ? error.message : 'unknown' });
      }
  };
  let listening: Listener | undefined;
  let closed = false;
  return {
    signal: { channel: DELIVERIES_DUE_CHANNEL, when: isDeliveryDue },
    onApplied: (changes) => void (isDeliveryDue(changes) && tell()),
    subscribe: (subscriber) => {
      if (closed) return () => undefined;
      listeners.add(subscriber);
      if (options.listen && !listening)
        listening = options.listen.open({
          connectionString: options.listen.connectionString,
          channel: DELIVERIES_DUE_CHANNEL,
          onNotification: tell,
          // Whatever was made due before LISTEN was in place (the first time, or again after a
          // lost connection) was not heard: look once.
          onListening: tell,
        });
      return () => void listeners.delete(subscriber);
    },
    close: async () => {
      closed = true;
      listeners.clear();
      await listening?.close();
      listening = undefined;
    },
  };
};
