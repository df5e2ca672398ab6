import type { Middleware } from 'koa';

const allowedMethods = 'GET, POST, PUT, DELETE, OPTIONS';
const allowedHeaders = 'Authorization, Content-Type, X-API-Key, X-Request-Id';
const exposedHeaders = 'X-Request-Id, Retry-After, X-Enrollment-Id';
const preflightMaxAgeSeconds = '600';

/**
 * Only listed origins get CORS headers; with an empty list the service sends none at all.
 * Credentials are never allowed: clients authenticate with headers, not cookies.
 */
export const corsMiddleware = (origins: readonly string[]): Middleware => {
  const allowed = new Set(origins);
  // Not async: every path returns next's promise or answers at once.
  return (ctx, next) => {
    if (allowed.size === 0) return next();
    ctx.vary('Origin');
    const origin = ctx.get('Origin');
    if (!allowed.has(origin)) return next();
    ctx.set('Access-Control-Allow-Origin', origin);
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '') {
      ctx.set('Access-Control-Allow-Methods', allowedMethods);
      ctx.set('Access-Control-Allow-Headers', allowedHeaders);
      ctx.set('Access-Control-Max-Age', preflightMaxAgeSeconds);
      ctx.status = 204;
      return Promise.resolve();
    }
    ctx.set('Access-Control-Expose-Headers', exposedHeaders);
    return next();
  };
};
