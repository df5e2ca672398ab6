import type { Middleware } from 'koa';
import type { Logger } from '../../../application/ports.js';

/** One line per request; never bodies, headers or query strings (they can carry secrets). */
export const accessLogMiddleware = (logger: Logger): Middleware => async (ctx, next) => {
  const started = process.hrtime.bigint();
  const { method, path } = ctx;
  try {
    await next();
  } finally {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    logger.info('request', { method, path, status: ctx.status, duration_ms: Math.round(durationMs * 100) / 100 });
  }
};
