import type { Middleware } from 'koa';

/**
 * `path` without its trailing slashes ("/" stays "/"). A loop, not `/\/+$/`: that regex retries
 * from every run of slashes in the path, so a 16 KB path of slashes cost a third of a second of
 * CPU per request, before any authentication.
 */
export const withoutTrailingSlashes = (path: string): string => {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  return end === path.length ? path : path.slice(0, end);
};

/** Every path is accepted with or without trailing slashes; routes are declared without. */
export const trailingSlashMiddleware = (): Middleware => (ctx, next) => {
  if (ctx.path.length > 1 && ctx.path.endsWith('/')) ctx.path = withoutTrailingSlashes(ctx.path);
  return next();
};
