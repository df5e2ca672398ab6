import type { Middleware } from 'koa';
import type { Logger } from '../../../application/ports.js';

/**
 * One line per request; never bodies, headers or query strings (they can carry secrets).
 * Not async: one `then` instead of an async function's promise and its await (every request
 * passes here).
 */
export const accessLogMiddleware = (logger: Logger): Middleware => (ctx, next) => {
  const started = process.hrtime.bigint();
  const { method, path } = ctx;
  const logLine = (): void => {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    logger.info('request', { method, path, status: ctx.status, duration_ms: Math.round(durationMs * 100) / 100 });
  };
  return next().then(logLine, (error: unknown) => {
    logLine();
    throw error;
  });
};
