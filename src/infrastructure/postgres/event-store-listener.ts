/**
 * Wakes subscribers when any process commits events. Every (re)connection wakes everyone, so
 * whatever was committed while nobody listened is read from each subscriber's last delivered
 * position. A slow poll is the last backstop.
 */
import { listen, type Listener } from './listen.js';
import { isPostgresUnavailable } from './unavailable.js';

export type CommitListenerOptions = {
  readonly connectionString: string;
  readonly channel: string;
  readonly onWake: () => void;
  /** Every notification's payload (see parseCommitPayload). */
  readonly onPayload?: (payload: string | undefined) => void;
  /** LISTEN is in place again after a loss (or for the first time): what was sent meanwhile is lost. */
  readonly onListening?: () => void;
  readonly pollMs?: number;
  readonly retryMs?: { readonly min: number; readonly max: number };
};

export type CommitListener = Listener;

export const listenForCommits = (options: CommitListenerOptions): CommitListener => {
  const { connectionString, channel, onWake, retryMs } = options;
  const poll = setInterval(onWake, options.pollMs ?? 5000);
  poll.unref();
  const listener = listen({
    connectionString,
    channel,
    retryMs,
    onNotification: (payload) => {
      options.onPayload?.(payload);
      onWake();
    },
    onListening: () => {
      options.onListening?.();
      onWake();
    },
  });
  return {
    listening: listener.listening,
    close: async () => {
      clearInterval(poll);
      await listener.close();
    },
  };
};

/** What one commit notification says: the streams a batch moved and their new revisions. */
export type CommitTails = { readonly tails: ReadonlyMap<string, number>; readonly complete: boolean };

/**
 * A payload of events_append_batch (migration event-store-003): the head, then a line
 * "<stream> <revision>" per stream. A "*" line (a stream name too long to list), or a payload
 * of an older version of the function (the head alone), says nothing complete about streams.
 */
export const parseCommitPayload = (payload: string | undefined): CommitTails => {
  const lines = (payload ?? '').split('\n');
  const tails = new Map<string, number>();
  let complete = lines.length > 1;
  for (const line of lines.slice(1)) {
    const at = line.lastIndexOf(' ');
    const revision = Number(line.slice(at + 1));
    if (at <= 0 || !Number.isInteger(revision)) complete = false;
    else tails.set(line.slice(0, at), revision);
  }
  return { tails, complete };
};

/**
 * What a subscriber's read retries rather than fails on: any error that is not the server's
 * (a lost or refused connection), and of the server's, those that say it is out of reach for
 * now, as a request's answer would be 503 (`isPostgresUnavailable`: class 08, shutdown, too
 * many connections, or any FATAL, such as a database not accepting connections).
 */
export const isConnectionError = (error: unknown): boolean => {
  const fromServer = typeof (error as { severity?: unknown } | null)?.severity === 'string';
  return fromServer ? isPostgresUnavailable(error) : error instanceof Error;
};
