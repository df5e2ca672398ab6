/**
 * Storage.onDeliveryDue's plumbing: the embedded filter, and on PostgreSQL the LISTEN opened
 * with the first subscriber that tells subscribers of every notification and once whenever it
 * listens (at first and after a lost connection: what was sent before is lost). The NOTIFY
 * itself, across two real processes' worth of services, is test/integration/cross-process-delivery.
 */
import { describe, expect, it } from '@jest/globals';
import type { Logger } from '../../../src/application/ports.js';
import type { ProjectionChange } from '../../../src/application/read-models.js';
import { createDeliveryDueSignal, DELIVERIES_DUE_CHANNEL } from '../../../src/infrastructure/composition/delivery-due.js';
import type { ListenOptions, Listener } from '../../../src/infrastructure/postgres/listen.js';

const due: ProjectionChange = { op: 'put', collection: 'pending_deliveries', id: 'c1', doc: { due_at: 'now' } };
const other: ProjectionChange = { op: 'delete', collection: 'pending_deliveries', id: 'c1' };
const isDeliveryDue = (changes: readonly ProjectionChange[]) => changes.some((change) => change.op === 'put');

const recordingLogger = () => {
  const errors: string[] = [];
  const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (message) => void errors.push(message) };
  return { logger, errors };
};

/** A stand-in for listen.ts: the test plays the connection's events. */
const fakeListen = () => {
  const opened: ListenOptions[] = [];
  let closed = 0;
  const open = (options: ListenOptions): Listener => {
    opened.push(options);
    return { listening: () => true, close: async () => void (closed += 1) };
  };
  return { open, opened, closed: () => closed };
};

describe('delivery-due signal', () => {
  it('embedded: tells subscribers of projected changes that make a delivery due, and of no others', () => {
    const { logger } = recordingLogger();
    const signal = createDeliveryDueSignal({ isDeliveryDue, logger });
    let told = 0;
    const unsubscribe = signal.subscribe(() => void (told += 1));
    signal.onApplied([other]);
    expect(told).toBe(0);
    signal.onApplied([other, due]);
    expect(told).toBe(1);
    unsubscribe();
    signal.onApplied([due]);
    expect(told).toBe(1);
  });

  it('PostgreSQL: gives the projection runner its channel and test, and LISTENs only once someone subscribes', async () => {
    const { logger } = recordingLogger();
    const listen = fakeListen();
    const signal = createDeliveryDueSignal({ isDeliveryDue, logger, listen: { connectionString: 'postgres://db', open: listen.open } });
    expect(signal.signal.channel).toBe(DELIVERIES_DUE_CHANNEL);
    expect(signal.signal.when([due])).toBe(true);
    expect(signal.signal.when([other])).toBe(false);
    expect(listen.opened).toEqual([]);
    signal.subscribe(() => undefined);
    signal.subscribe(() => undefined);
    expect(listen.opened.map((o) => [o.connectionString, o.channel])).toEqual([['postgres://db', DELIVERIES_DUE_CHANNEL]]);
    await signal.close();
    expect(listen.closed()).toBe(1);
  });

  it('PostgreSQL: tells on every notification, and once whenever LISTEN is in place, at first and after a loss', () => {
    const { logger, errors } = recordingLogger();
    const listen = fakeListen();
    const signal = createDeliveryDueSignal({ isDeliveryDue, logger, listen: { connectionString: 'postgres://db', open: listen.open } });
    let told = 0;
    signal.subscribe(() => {
      told += 1;
      if (told === 1) throw new Error('a listener that throws');
    });
    const connection = listen.opened[0]!;
    expect(told).toBe(0);
    connection.onListening(); // what was made due before this was not heard
    expect(told).toBe(1);
    expect(errors).toEqual(['delivery-due listener failed']);
    connection.onNotification('');
    connection.onNotification('');
    expect(told).toBe(3);
    connection.onLost?.();
    expect(told).toBe(3);
    connection.onListening();
    expect(told).toBe(4);
  });

  it('PostgreSQL: after close, a subscriber opens no LISTEN and is told nothing', async () => {
    const { logger } = recordingLogger();
    const listen = fakeListen();
    const signal = createDeliveryDueSignal({ isDeliveryDue, logger, listen: { connectionString: 'postgres://db', open: listen.open } });
    await signal.close();
    let told = 0;
    signal.subscribe(() => void (told += 1));
    signal.onApplied([due]);
    expect(listen.opened).toEqual([]);
    expect(told).toBe(0);
  });
});
