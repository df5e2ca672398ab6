import { Router } from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../../application/ports.js';
import { httpServerSpan } from '../../infrastructure/telemetry/http-server-span.js';
import { createDocsRouter } from './docs.js';
import { accessLogMiddleware } from './middleware/access-log.js';
import { corsMiddleware } from './middleware/cors.js';
import { errorHandlerMiddleware } from './middleware/error-handler.js';
import { jsonBodyMiddleware } from './middleware/json-body.js';
import { notFoundMiddleware } from './middleware/not-found.js';
import { requestIdMiddleware } from './middleware/request-id.js';
import { securityHeadersMiddleware } from './middleware/security-headers.js';
import { trailingSlashMiddleware } from './middleware/trailing-slash.js';

export type HttpAppDeps = {
  readonly logger: Logger;
  /** Origins allowed to call the API from a browser; empty sends no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  readonly routers: readonly Router[];
  readonly openApi: object;
};

/**
 * Order matters: the server span wraps everything, so every log line and event carries its
 * trace id; the request id wraps the rest so every log line and error body carries it;
 * the access log sees the final status; headers are set before the error handler so error
 * answers carry them; the body is parsed inside the error handler so bad bodies are 4xx.
 */
export const createHttpApp = (deps: HttpAppDeps): Koa => {
  const app = new Koa();
  // One router holding every route: a request is matched once, instead of passing through
  // each router in turn (each pass a dispatch, a match and a not-found event).
  const router = new Router();
  for (const child of [createDocsRouter(deps.openApi), ...deps.routers]) router.use(child.routes());
  app.use(httpServerSpan());
  app.use(requestIdMiddleware());
  app.use(accessLogMiddleware(deps.logger));
  app.use(securityHeadersMiddleware());
  app.use(corsMiddleware(deps.corsOrigins));
  app.use(errorHandlerMiddleware(deps.logger));
  app.use(trailingSlashMiddleware());
  app.use(jsonBodyMiddleware());
  app.use(router.routes());
  app.use(notFoundMiddleware([router]));
  // Only failures while writing the response reach here; the error handler answers the rest.
  app.on('error', (error: unknown) => {
    deps.logger.error('response failed', error instanceof Error ? { error: error.name, error_message: error.message } : {});
  });
  return app;
};
