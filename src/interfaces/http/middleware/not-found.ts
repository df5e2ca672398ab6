import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { HttpError } from '../errors.js';
import { declaredRoutes } from '../route-table.js';

/** Methods routed for `path` across all routers; HEAD comes with GET. */
const routedMethods = (routers: readonly Router[], path: string): ReadonlySet<string> => {
  const methods = new Set<string>();
  for (const router of routers)
    for (const layer of router.match(path, 'GET').path) for (const method of layer.methods) methods.add(method);
  return methods;
};

/** A method the path has no route for: 405 naming the ones it has, or their list for OPTIONS. */
const otherMethod = (ctx: Context, routed: ReadonlySet<string>): void => {
  ctx.set('Allow', [...routed, 'OPTIONS'].sort().join(', '));
  if (ctx.method === 'OPTIONS') {
    ctx.status = 204;
    return;
  }
  throw new HttpError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on this path`);
};

/**
 * A path a route spells out (`/api/code/send`) belongs to the routes that spell it out, even
 * where another route's parameter would take it too (`GET /api/code/:challenge_id`): a GET of
 * `/api/code/send` is a wrong method (405), not a malformed challenge id. Mounted before the
 * routers, so the answer is the same with or without credentials, as for any other wrong method.
 */
export const literalPathsMiddleware = (routers: readonly Router[]): Middleware => {
  const routes = declaredRoutes(routers);
  const owners = new Map<string, Set<string>>();
  for (const route of routes)
    if (route.literal) {
      const path = route.path.toLowerCase();
      const methods = owners.get(path) ?? new Set<string>();
      for (const method of route.methods) methods.add(method);
      owners.set(path, methods);
    }
  // Only the paths a parameter could take: everywhere else the routers and the handler below
  // already answer so.
  const shadowed = new Map<string, ReadonlySet<string>>();
  for (const [path, methods] of owners)
    if (routes.some((route) => !route.literal && route.matches(path) && route.methods.some((m) => !methods.has(m)))) shadowed.set(path, methods);
  return (ctx, next) => {
    // The routers match paths whatever their case: so does this.
    const methods = shadowed.get(ctx.path.toLowerCase());
    if (methods === undefined || methods.has(ctx.method)) return next();
    otherMethod(ctx, methods);
    return Promise.resolve();
  };
};

/** Mounted after every router: reached only when no route took the request. */
export const notFoundMiddleware = (routers: readonly Router[]): Middleware => async (ctx) => {
  const routed = routedMethods(routers, ctx.path);
  // A route that matched but passed the request on found nothing to serve.
  if (routed.size === 0 || routed.has(ctx.method)) throw new HttpError('ROUTE_NOT_FOUND', 'No such route');
  otherMethod(ctx, routed);
};
