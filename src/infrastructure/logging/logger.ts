/** Logger port over pino: one JSON object per line, tagged with the request and trace ids. */
import { writeSync } from 'node:fs';
import { pino, stdTimeFunctions } from 'pino';
import type { LogFields, Logger } from '../../application/ports.js';
import { currentSpanIds } from '../telemetry/tracer.js';
import { redactFields } from './redact.js';
import { currentRequestId } from './request-context.js';

export type LoggerOptions = {
  /** A pino level: trace, debug, info, warn, error, fatal or silent. */
  readonly level: string;
  /** Defaults to stdout. */
  readonly destination?: NodeJS.WritableStream;
  /** Adds `pid` to every line: for processes sharing one stdout (WEB_CONCURRENCY > 1). */
  readonly pid?: boolean;
};

const correlation = (): Record<string, string> => {
  const ids: Record<string, string> = {};
  const requestId = currentRequestId();
  if (requestId !== undefined) ids['request_id'] = requestId;
  const span = currentSpanIds();
  if (span !== undefined) Object.assign(ids, span);
  return ids;
};

/** What stdout may hold unwritten (a reader that stopped reading, a full disk): later lines are dropped. */
export const MAX_BUFFERED_LOG_BYTES = 16 * 1024 * 1024;

/**
 * Stdout without a write system call per line: lines written while a write is in flight go out
 * together. What is still buffered when the process exits is flushed synchronously then.
 *
 * Codes are verified whether or not their log lines can be written: a stdout that fails (the
 * disk under a redirect full, ENOSPC or EFBIG) is said once on stderr, lines past
 * MAX_BUFFERED_LOG_BYTES are dropped, and writing resumes when stdout takes lines again. The
 * exit flush is skipped while stdout fails: sonic-boom's flushSync retries such an error every
 * 100 ms for ever, and a process meant to exit for its supervisor hung instead.
 */
const stdout = () => {
  const destination = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_LOG_BYTES });
  const line = (level: string, msg: string, fields: Record<string, unknown>) => `${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`;
  let failing = false;
  let dropped = 0;
  let retry: NodeJS.Timeout | undefined;
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (!failing) {
      failing = true;
      try {
        writeSync(2, line('error', 'log lines cannot be written to stdout: serving on, dropping lines until it takes them again', { error: error.code ?? error.name }));
      } catch {
        // stderr fails too: there is nowhere left to say it.
      }
    }
    // Once the buffer is full every line is dropped before any write is tried: an empty write
    // tries again (a second from now), so logging resumes when stdout takes lines.
    retry ??= setTimeout(() => {
      retry = undefined;
      if (failing) destination.write('');
    }, 1000).unref();
  });
  destination.on('drop', () => void dropped++);
  destination.on('write', () => {
    if (!failing) return;
    failing = false;
    destination.write(line('warn', 'log lines are written to stdout again', { dropped_lines: dropped }));
    dropped = 0;
  });
  process.once('exit', () => {
    if (failing) return;
    try {
      destination.flushSync();
    } catch {
      // stdout already closed: nothing left to save.
    }
  });
  return destination;
};

export const createLogger = (options: LoggerOptions): Logger => {
  const settings = {
    level: options.level,
    // No hostname, and a pid only where processes share a stdout: the runtime (container,
    // systemd) adds where a line came from, but cannot tell WEB_CONCURRENCY's processes apart.
    base: options.pid ? { pid: process.pid } : undefined,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: correlation,
  };
  const log = pino(settings, options.destination ?? stdout());
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: LogFields): void => {
      if (fields === undefined) log[level](message);
      else log[level](redactFields(fields), message);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
};
