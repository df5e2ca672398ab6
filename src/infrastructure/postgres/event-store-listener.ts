/**
 * Wakes subscribers when any process commits events. Every (re)connection wakes everyone, so
 * whatever was committed while nobody listened is read from each subscriber's last delivered
 * position. A slow poll is the last backstop.
 */
import { listen } from './listen.js';

export type CommitListenerOptions = {
  readonly connectionString: string;
  readonly channel: string;
  readonly onWake: () => void;
  readonly pollMs?: number;
  readonly retryMs?: { readonly min: number; readonly max: number };
};

export type CommitListener = { readonly close: () => Promise<void> };

export const listenForCommits = (options: CommitListenerOptions): CommitListener => {
  const { connectionString, channel, onWake, retryMs } = options;
  const poll = setInterval(onWake, options.pollMs ?? 5000);
  poll.unref();
  const listener = listen({ connectionString, channel, retryMs, onNotification: () => onWake(), onListening: onWake });
  return {
    close: async () => {
      clearInterval(poll);
      await listener.close();
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
