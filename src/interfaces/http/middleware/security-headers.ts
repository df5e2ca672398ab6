import type { Middleware } from 'koa';

/** Set before the handler runs so error answers carry them too. */
export const securityHeadersMiddleware = (): Middleware => async (ctx, next) => {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  if (ctx.path === '/api' || ctx.path.startsWith('/api/')) {
    // API answers may carry seeds, QR codes, API keys and tokens: never cache or frame them.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    ctx.set('X-Frame-Options', 'DENY');
  }
  await next();
};
