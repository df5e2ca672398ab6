/**
 * Wakes subscribers when any process commits events: LISTEN on a dedicated connection (a pooled
 * one could be handed to someone else and lose the registration), reconnecting with backoff when
 * it drops. Every (re)connection wakes everyone, so whatever was committed while nobody listened
 * is read from each subscriber's last delivered position. A slow poll is the last backstop.
 */
import pg from 'pg';

export type CommitListenerOptions = {
  readonly connectionString: string;
  readonly channel: string;
  readonly onWake: () => void;
  readonly pollMs?: number;
  readonly retryMs?: { readonly min: number; readonly max: number };
};

export type CommitListener = { readonly close: () => Promise<void> };

export const listenForCommits = (options: CommitListenerOptions): CommitListener => {
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
    client.on('notification', () => options.onWake());
    client.on('end', () => {
      if (current !== client) return;
      current = undefined;
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
    options.onWake();
  };

  const poll = setInterval(options.onWake, options.pollMs ?? 5000);
  poll.unref();
  connecting = connect();

  return {
    close: async () => {
      closed = true;
      clearInterval(poll);
      clearTimeout(reconnect);
      await connecting;
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
};

const TRANSIENT_SQLSTATE = /^(08|57P0[123]|53300)/;

/** Lost or refused connections (no SQLSTATE, or class 08 / shutdown / too many connections). */
export const isConnectionError = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  const fromServer = typeof (error as { severity?: unknown } | null)?.severity === 'string';
  return fromServer ? typeof code === 'string' && TRANSIENT_SQLSTATE.test(code) : error instanceof Error;
};
