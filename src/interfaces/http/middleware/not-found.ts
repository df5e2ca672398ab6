import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { HttpError } from '../errors.js';

/** Methods routed for `path` across all routers; HEAD comes with GET. */
const routedMethods = (routers: readonly Router[], path: string): ReadonlySet<string> => {
  const methods = new Set<string>();
  for (const router of routers)
    for (const layer of router.match(path, 'GET').path) for (const method of layer.methods) methods.add(method);
  return methods;
};

/** Mounted after every router: reached only when no route took the request. */
export const notFoundMiddleware = (routers: readonly Router[]): Middleware => async (ctx) => {
  const routed = routedMethods(routers, ctx.path);
  // A route that matched but passed the request on found nothing to serve.
  if (routed.size === 0 || routed.has(ctx.method)) throw new HttpError('ROUTE_NOT_FOUND', 'No such route');
  const allow = [...routed, 'OPTIONS'].sort().join(', ');
  ctx.set('Allow', allow);
  if (ctx.method === 'OPTIONS') {
    ctx.status = 204;
    return;
  }
  throw new HttpError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on this path`);
};
