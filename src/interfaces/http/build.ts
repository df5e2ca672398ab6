import type Koa from 'koa';
import type { Handlers } from '../../application/handlers.js';
import type { Logger } from '../../application/ports.js';
import { createHttpApp } from './app.js';
import { openApiDocument } from './openapi.js';
import { createAppsRouter } from './routes/apps.js';
import { createAuthRouter } from './routes/auth.js';
import { createCodeRouter } from './routes/code.js';
import { createHealthRouter, type HealthProbes } from './routes/health.js';
import { createOtpRouter } from './routes/otp.js';

export type HttpServiceDeps = HealthProbes & {
  readonly handlers: Handlers;
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  /** Use X-Forwarded-For for the client address (per-IP limits) only behind a trusted proxy. */
  readonly trustProxy: boolean;
  /** Worker processes serve only the health endpoints. */
  readonly healthOnly?: boolean;
};

/** The whole HTTP API: every router of the contract on the shared middleware shell. */
export const buildHttpApp = (deps: HttpServiceDeps): Koa => {
  const app = createHttpApp({
    logger: deps.logger,
    corsOrigins: deps.corsOrigins,
    openApi: openApiDocument,
    routers: deps.healthOnly
      ? [createHealthRouter(deps)]
      : [
          createHealthRouter(deps),
          createAuthRouter(deps.handlers),
          createAppsRouter(deps.handlers),
          createOtpRouter(deps.handlers),
          createCodeRouter(deps.handlers),
        ],
  });
  app.proxy = deps.trustProxy;
  return app;
};
