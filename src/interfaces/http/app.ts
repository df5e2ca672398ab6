import { Router } from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../../application/ports.js';
import { httpServerSpan, routeMatcher } from '../../infrastructure/telemetry/http-server-span.js';
import { createDocsRouter } from './docs.js';
import { accessLogMiddleware, pathForLog } from './middleware/access-log.js';
import { corsMiddleware } from './middleware/cors.js';
import { errorHandlerMiddleware } from './middleware/error-handler.js';
import { jsonBodyMiddleware } from './middleware/json-body.js';
import { literalPathsMiddleware, notFoundMiddleware } from './middleware/not-found.js';
import { requestIdMiddleware } from './middleware/request-id.js';
import { securityHeadersMiddleware } from './middleware/security-headers.js';
import { trailingSlashMiddleware } from './middleware/trailing-slash.js';
import { APPS_PREFIX } from './routes/apps.js';
import { LOGOUT_PATH } from './routes/auth.js';
import { WEBHOOKS_PREFIX } from './routes/webhooks.js';

/**
 * Hands a request to the one router whose prefix begins its path (the API's routers are
 * prefixed: /api/otp, /api/code...), else to one router holding the unprefixed ones (health,
 * docs). @koa/router tests every pattern it holds on every request: one root router tested
 * about 40 per request (its match was 6% of a verification's allocations), and routers tried
 * in turn each added a dispatch, a match and a not-found event.
 */
const dispatchByPrefix = (routers: readonly Router[]): Koa.Middleware => {
  // Koa.Middleware, as app.use takes a router's routes(): the router adds what it declares.
  const asMiddleware = (router: Router): Koa.Middleware => router.routes() as unknown as Koa.Middleware;
  const prefixed = routers.flatMap((router) => (router.opts.prefix ? [{ prefix: router.opts.prefix, routes: asMiddleware(router) }] : []));
  const unprefixed = new Router();
  for (const router of routers) if (!router.opts.prefix) unprefixed.use(router.routes());
  const rest = asMiddleware(unprefixed);
  // A loop, not find(): no closure per request on the verification path.
  const routerOf = (path: string) => {
    for (const router of prefixed) {
      const { prefix } = router;
      if (path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/')) return router;
    }
    return undefined;
  };
  const dispatch: Koa.Middleware = (ctx, next) => {
    const asSent = routerOf(ctx.path);
    if (asSent) return asSent.routes(ctx, next);
    // The routers match a route's path whatever its case (`/API/Code/send`), so the prefix is
    // matched so too; but @koa/router matches a `router.use` middleware's prefix only as written
    // (a plain RegExp), and those middlewares authenticate the caller: the routers are handed
    // the prefix in lower case, or `/API/OTP/status` would reach its route unauthenticated.
    const lowered = routerOf(ctx.path.toLowerCase());
    if (lowered === undefined) return rest(ctx, next);
    ctx.path = lowered.prefix + ctx.path.slice(lowered.prefix.length);
    return lowered.routes(ctx, next);
  };
  // What it routes to, for tools that list the served routes (the OpenAPI conformance test).
  return Object.assign(dispatch, { routers });
};

const clientGoneCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/** A connection the client closed or broke (an abort, a malformed chunk), not the service failing. */
const isClientGone = (error: unknown): boolean => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (clientGoneCodes.has(code) || code.startsWith('HPE_'))) return true;
  return typeof message === 'string' && (message === 'aborted' || message.startsWith('Parse Error'));
};

export type HttpAppDeps = {
  readonly logger: Logger;
  /** Origins allowed to call the API from a browser; empty sends no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  readonly routers: readonly Router[];
  readonly openApi: object;
  /** The dependency an error says is out of reach (answered 503), if it says so. */
  readonly unavailableDependency?: (error: unknown) => string | undefined;
};

/**
 * Order matters: the server span wraps everything, so every log line and event carries its
 * trace id; the request id wraps the rest so every log line and error body carries it;
 * the access log sees the final status; headers are set before the error handler so error
 * answers carry them; the body is parsed inside the error handler so bad bodies are 4xx.
 */
export const createHttpApp = (deps: HttpAppDeps): Koa => {
  const app = new Koa();
  const routers = [createDocsRouter(deps.openApi), ...deps.routers];
  const shownPath = pathForLog(routers);
  // A request refused before any router ran (a body that is not JSON) is named by the routers' own match.
  app.use(httpServerSpan(shownPath, routeMatcher(routers)));
  app.use(requestIdMiddleware());
  app.use(accessLogMiddleware(deps.logger, shownPath));
  app.use(securityHeadersMiddleware());
  app.use(corsMiddleware(deps.corsOrigins));
  app.use(errorHandlerMiddleware(deps.logger, deps.unavailableDependency));
  app.use(trailingSlashMiddleware());
  // Bodies not read here: providers' webhooks read their own; apps' are read by their router
  // once the operator is known (appBodyLimitBytes), and only by the routes that take one; logout
  // takes none, so whatever a client sends with it (nothing, {}, garbage, a megabyte) it is
  // logged out.
  // In any case, as the routers match: `/api/auth/Logout` logs out as `/api/auth/logout` does.
  const leaveUnread = (sent: string) => {
    const path = sent.toLowerCase();
    return path.startsWith(`${WEBHOOKS_PREFIX}/`) || path === APPS_PREFIX || path.startsWith(`${APPS_PREFIX}/`) || path === LOGOUT_PATH;
  };
  app.use(jsonBodyMiddleware({ leaveUnread }));
  app.use(literalPathsMiddleware(routers));
  app.use(dispatchByPrefix(routers));
  app.use(notFoundMiddleware(routers));
  // Only failures while reading or writing the connection reach here (the error handler answers
  // the rest): a client that went away is the client's doing, logged at info so it cannot raise
  // alerts; anything else is an error.
  app.on('error', (error: unknown, ctx?: { state?: Record<string, unknown> }) => {
    const fields = {
      ...(error instanceof Error ? { error: error.name, error_message: error.message } : {}),
      ...(typeof ctx?.state?.['requestId'] === 'string' ? { request_id: ctx.state['requestId'] } : {}),
    };
    if (isClientGone(error)) deps.logger.info('client went away', fields);
    else deps.logger.error('response failed', fields);
  });
  return app;
};
