/**
 * LISTEN on a dedicated connection (a pooled one could be handed to someone else and lose the
 * registration), reconnecting with backoff when it drops. Callers learn when they are listening
 * and when they stopped, since notifications sent in between are lost. A connection can also
 * die without closing (a partition, a firewall forgetting an idle flow, a host gone hard): a
 * heartbeat query that goes unanswered counts as a loss too, so "listening" means "heard from
 * the server within the last `heartbeatMs + heartbeatTimeoutMs`".
 */
import pg from 'pg';

export type ListenOptions = {
  readonly connectionString: string;
  readonly channel: string;
  readonly onNotification: (payload: string | undefined) => void;
  /** LISTEN is in place: notifications from now on arrive. */
  readonly onListening: () => void;
  /** The connection dropped or stopped answering: notifications are being missed until the next onListening. */
  readonly onLost?: () => void;
  readonly retryMs?: { readonly min: number; readonly max: number };
  readonly heartbeatMs?: number;
  readonly heartbeatTimeoutMs?: number;
};

export type Listener = {
  /** Whether LISTEN is in place now (between an onListening and the next onLost). */
  readonly listening: () => boolean;
  readonly close: () => Promise<void>;
};

/** pg has no public way to drop a connection that will never answer `end()`. */
const destroySocket = (client: pg.Client): void =>
  (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();

export const listen = (options: ListenOptions): Listener => {
  const retry = options.retryMs ?? { min: 100, max: 5000 };
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 3000;
  let closed = false;
  let current: pg.Client | undefined;
  let reconnect: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let delay = retry.min;
  let connecting: Promise<void> | undefined;

  const schedule = (): void => {
    if (closed || reconnect) return;
    reconnect = setTimeout(() => void (connecting = connect()), delay);
    delay = Math.min(delay * 2, retry.max);
  };

  /** Forgets `client` as the listening connection, tells the caller, and reconnects. */
  const lose = (client: pg.Client): void => {
    if (current !== client) return;
    current = undefined;
    clearInterval(heartbeat);
    options.onLost?.();
    destroySocket(client);
    schedule();
  };

  const beat = (client: pg.Client): void => {
    const timer = setTimeout(() => lose(client), heartbeatTimeoutMs);
    client.query('SELECT 1').then(
      () => clearTimeout(timer),
      () => {
        clearTimeout(timer);
        lose(client);
      },
    );
  };

  const connect = async (): Promise<void> => {
    reconnect = undefined;
    if (closed) return;
    const client = new pg.Client({ connectionString: options.connectionString, keepAlive: true, connectionTimeoutMillis: heartbeatMs + heartbeatTimeoutMs });
    // Errors end the connection; 'end' drives the reconnect.
    client.on('error', () => undefined);
    client.on('notification', (message) => {
      if (current === client) options.onNotification(message.payload);
    });
    client.on('end', () => lose(client));
    try {
      await client.connect();
      const stalled = setTimeout(() => destroySocket(client), heartbeatTimeoutMs); // fails the LISTEN below
      await client.query(`LISTEN ${options.channel}`).finally(() => clearTimeout(stalled));
    } catch {
      destroySocket(client);
      return schedule();
    }
    if (closed) return void (await client.end().catch(() => undefined));
    current = client;
    delay = retry.min;
    heartbeat = setInterval(() => beat(client), heartbeatMs);
    heartbeat.unref();
    options.onListening();
  };

  connecting = connect();

  return {
    listening: () => current !== undefined,
    close: async () => {
      closed = true;
      clearTimeout(reconnect);
      clearInterval(heartbeat);
      await connecting;
      const client = current;
      current = undefined;
      if (client) await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      if (client) destroySocket(client);
    },
  };
};
