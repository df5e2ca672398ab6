/**
 * Wakes subscribers when any process commits events. Every (re)connection wakes everyone, so
 * whatever was committed while nobody listened is read from each subscriber's last delivered
 * position. A slow poll is the last backstop.
 */
import { listen, type Listener } from './listen.js';
import { SERVER_UNAVAILABLE } from './unavailable.js';

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

/** Lost or refused connections (no SQLSTATE, or class 08 / shutdown / too many connections). */
export const isConnectionError = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  const fromServer = typeof (error as { severity?: unknown } | null)?.severity === 'string';
  return fromServer ? typeof code === 'string' && SERVER_UNAVAILABLE.test(code) : error instanceof Error;
};
