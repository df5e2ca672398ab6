/**
 * LISTEN on a dedicated connection (a pooled one could be handed to someone else and lose the
 * registration), reconnecting with backoff when it drops. Callers learn when they are listening
 * and when they stopped, since notifications sent in between are lost. A connection can also
 * die without closing (a partition, a firewall forgetting an idle flow, a host gone hard): a
 * heartbeat query that goes unanswered counts as a loss too, so "listening" means "heard from
 * the server within the last `heartbeatMs + heartbeatTimeoutMs`".
 *
 * Listeners with the same connection string and timings share one connection for all their
 * channels (the event store's commits and the vault's destroyed keys: one connection per
 * process, not one per channel). It opens with the first listener, LISTENs for each channel as
 * listeners arrive, tells every listener when it is lost and when it listens again, and closes
 * with the last one.
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

type Subscriber = { readonly options: ListenOptions; listening: boolean };

/** pg has no public way to drop a connection that will never answer `end()`. */
const destroySocket = (client: pg.Client): void =>
  (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();

type Settings = { readonly connectionString: string; readonly retry: { min: number; max: number }; readonly heartbeatMs: number; readonly heartbeatTimeoutMs: number };

type SharedConnection = { readonly add: (subscriber: Subscriber) => void; readonly remove: (subscriber: Subscriber) => Promise<void> };

const connections = new Map<string, SharedConnection>();

/** A listener's callback that throws must not break the connection the others share. */
const tell = (callback: (() => void) | undefined): void => {
  try {
    callback?.();
  } catch {
    // The listener's failure is its own.
  }
};

/** Unquoted identifiers only: PostgreSQL folds case, and notifications are matched by name. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

const openShared = (key: string, settings: Settings): SharedConnection => {
  const { retry, heartbeatMs, heartbeatTimeoutMs } = settings;
  const subscribers = new Set<Subscriber>();
  /** Channels LISTENed on the current connection. */
  const listened = new Set<string>();
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

  /** Forgets `client` as the listening connection, tells the listeners, and reconnects. */
  const lose = (client: pg.Client): void => {
    if (current !== client) return;
    current = undefined;
    listened.clear();
    clearInterval(heartbeat);
    for (const subscriber of subscribers) {
      if (!subscriber.listening) continue;
      subscriber.listening = false;
      tell(subscriber.options.onLost);
    }
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

  /** LISTENs for every subscriber's channel not yet listened on `client`, then tells those subscribers. */
  const listenAll = async (client: pg.Client): Promise<void> => {
    for (;;) {
      const missing = [...new Set([...subscribers].map((s) => s.options.channel))].filter((channel) => !listened.has(channel));
      if (missing.length === 0) break;
      const stalled = setTimeout(() => destroySocket(client), heartbeatTimeoutMs); // fails the LISTEN below
      await client.query(missing.map((channel) => `LISTEN ${channel}`).join('; ')).finally(() => clearTimeout(stalled));
      if (current !== client) throw new Error('connection lost during LISTEN');
      for (const channel of missing) listened.add(channel);
    }
    for (const subscriber of subscribers) {
      if (subscriber.listening || !listened.has(subscriber.options.channel)) continue;
      subscriber.listening = true;
      tell(subscriber.options.onListening);
    }
  };

  const connect = async (): Promise<void> => {
    reconnect = undefined;
    if (closed) return;
    const client = new pg.Client({ connectionString: settings.connectionString, keepAlive: true, connectionTimeoutMillis: heartbeatMs + heartbeatTimeoutMs });
    // Errors end the connection; 'end' drives the reconnect.
    client.on('error', () => undefined);
    client.on('notification', (message) => {
      if (current !== client) return;
      for (const subscriber of subscribers)
        if (subscriber.listening && subscriber.options.channel === message.channel) tell(() => subscriber.options.onNotification(message.payload));
    });
    client.on('end', () => lose(client));
    try {
      await client.connect();
      if (closed) return void (await client.end().catch(() => undefined));
      current = client; // nothing is listened on it yet: lose() cleared `listened` with the last one
      await listenAll(client);
    } catch {
      // Lost while LISTENing: tells whoever was already told it listens, and reconnects.
      if (current === client) return lose(client);
      destroySocket(client);
      return schedule();
    }
    if (closed) return void (await client.end().catch(() => undefined));
    delay = retry.min;
    heartbeat = setInterval(() => beat(client), heartbeatMs);
    heartbeat.unref();
  };

  let adding: Promise<void> = Promise.resolve();
  return {
    add: (subscriber) => {
      subscribers.add(subscriber);
      if (!connecting) {
        connecting = connect();
        return;
      }
      // Connected (or connecting): LISTEN for its channel on the connection as it stands, one at a time.
      adding = adding.then(async () => {
        await connecting;
        const client = current;
        if (!client || closed || !subscribers.has(subscriber)) return; // the next connect listens for it
        try {
          await listenAll(client);
        } catch {
          lose(client);
        }
      });
    },
    remove: async (subscriber) => {
      subscribers.delete(subscriber);
      subscriber.listening = false;
      if (subscribers.size > 0) return;
      closed = true;
      connections.delete(key);
      clearTimeout(reconnect);
      clearInterval(heartbeat);
      await connecting;
      await adding;
      const client = current;
      current = undefined;
      if (client) await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      if (client) destroySocket(client);
    },
  };
};

export const listen = (options: ListenOptions): Listener => {
  if (!CHANNEL.test(options.channel)) throw new Error(`LISTEN channel must be a lower-case identifier, got "${options.channel}"`);
  const settings: Settings = {
    connectionString: options.connectionString,
    retry: options.retryMs ?? { min: 100, max: 5000 },
    heartbeatMs: options.heartbeatMs ?? 5000,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 3000,
  };
  const key = JSON.stringify(settings);
  let shared = connections.get(key);
  if (!shared) {
    shared = openShared(key, settings);
    connections.set(key, shared);
  }
  const subscriber: Subscriber = { options, listening: false };
  const connection = shared;
  connection.add(subscriber);
  let closing: Promise<void> | undefined;
  return {
    listening: () => subscriber.listening,
    close: () => (closing ??= connection.remove(subscriber)),
  };
};
