import type { Middleware } from 'koa';

const EVERY_ANSWER = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
// API answers may carry seeds, QR codes, API keys and tokens: never cache or frame them.
const API_ANSWER = {
  ...EVERY_ANSWER,
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
};

/** Set before the handler runs so error answers carry them too. Not async: it passes next's promise on. */
export const securityHeadersMiddleware = (): Middleware => (ctx, next) => {
  ctx.set(ctx.path === '/api' || ctx.path.startsWith('/api/') ? API_ANSWER : EVERY_ANSWER);
  return next();
};
