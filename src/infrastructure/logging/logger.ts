/** Logger port over pino: one JSON object per line, tagged with the request and trace ids. */
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

/**
 * Stdout without a write system call per line: lines written while a write is in flight go out
 * together. What is still buffered when the process exits is flushed synchronously then.
 */
const stdout = () => {
  const destination = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => {
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
