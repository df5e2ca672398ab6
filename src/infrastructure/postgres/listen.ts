/**
 * LISTEN on a dedicated connection (a pooled one could be handed to someone else and lose the
 * registration), reconnecting with backoff when it drops. Callers learn when they are listening
 * and when they stopped, since notifications sent in between are lost.
 */
import pg from 'pg';

export type ListenOptions = {
  readonly connectionString: string;
  readonly channel: string;
  readonly onNotification: (payload: string | undefined) => void;
  /** LISTEN is in place: notifications from now on arrive. */
  readonly onListening: () => void;
  /** The connection dropped: notifications are being missed until the next onListening. */
  readonly onLost?: () => void;
  readonly retryMs?: { readonly min: number; readonly max: number };
};

export type Listener = { readonly close: () => Promise<void> };

export const listen = (options: ListenOptions): Listener => {
  const retry = options.retryMs ?? { min: 100, max: 5000 };
  let closed = false;
  let current: pg.Client | undefined;
  let reconnect: NodeJS.Timeout | undefined;
  let delay = retry.min;
  let connecting: Promise<void> | undefined;

  const schedule = (): void => {
    if (closed || reconnect) return;
    reconnect = setTimeout(() => void (connecting = connect()), delay);
    delay = Math.min(delay * 2, retry.max);
  };

  const connect = async (): Promise<void> => {
    reconnect = undefined;
    if (closed) return;
    const client = new pg.Client({ connectionString: options.connectionString });
    // Errors end the connection; 'end' drives the reconnect.
    client.on('error', () => undefined);
    client.on('notification', (message) => options.onNotification(message.payload));
    client.on('end', () => {
      if (current !== client) return;
      current = undefined;
      options.onLost?.();
      schedule();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${options.channel}`);
    } catch {
      await client.end().catch(() => undefined);
      return schedule();
    }
    if (closed) return void (await client.end().catch(() => undefined));
    current = client;
    delay = retry.min;
    options.onListening();
  };

  connecting = connect();

  return {
    close: async () => {
      closed = true;
      clearTimeout(reconnect);
      await connecting;
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
};
