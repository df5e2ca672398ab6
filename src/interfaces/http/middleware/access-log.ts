import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from '../../../application/ports.js';
import { declaredRoutes } from '../route-table.js';

const uuidShaped = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * The path as the access log and the server span write it: segments the routes spell out and
 * UUIDs (every API route parameter is one; a docs asset's name shows as `*`) as sent, anything
 * else as `*`. A path is whatever a client typed, so an API
 * key or a code pasted into a URL (`/api/code/<secret>`) would otherwise reach the logs;
 * `/api/v2/code/verify` still shows as `/api/*` + `/code/verify` where it went wrong.
 */
export const pathForLog = (routers: readonly Router[]): ((path: string) => string) => {
  const literalSegments = new Set<string>();
  const literalPaths = new Set<string>();
  for (const route of declaredRoutes(routers)) {
    if (route.literal) literalPaths.add(route.path);
    for (const segment of route.path.split('/')) if (!segment.startsWith(':')) literalSegments.add(segment);
  }
  const segment = (part: string): string => (part === '' || literalSegments.has(part) || uuidShaped.test(part) ? part : '*');
  // The routes' own paths (every verification's) need no splitting.
  return (path) => (literalPaths.has(path) ? path : path.split('/').map(segment).join('/'));
};

/**
 * One line per request; never bodies, headers or query strings (they can carry secrets), and
 * the path only as `pathForLog` keeps it.
 * Not async: one `then` instead of an async function's promise and its await (every request
 * passes here).
 */
export const accessLogMiddleware =
  (logger: Logger, logged: (path: string) => string): Middleware =>
  (ctx, next) => {
    const started = process.hrtime.bigint();
    const { method, path } = ctx;
    const logLine = (): void => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info('request', { method, path: logged(path), status: ctx.status, duration_ms: Math.round(durationMs * 100) / 100 });
    };
    return next().then(logLine, (error: unknown) => {
      logLine();
      throw error;
    });
  };
