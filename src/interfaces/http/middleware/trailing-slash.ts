import type { Middleware } from 'koa';

/** Every path is accepted with or without trailing slashes; routes are declared without. */
export const trailingSlashMiddleware = (): Middleware => (ctx, next) => {
  if (ctx.path.length > 1 && ctx.path.endsWith('/')) ctx.path = ctx.path.replace(/\/+$/, '') || '/';
  return next();
};
