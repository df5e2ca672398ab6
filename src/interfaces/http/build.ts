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
import { createWebhooksRouter, type ReceiptMode, type TwilioStatusSettings } from './routes/webhooks.js';
import type { ResendSignatureCheck } from '../../infrastructure/delivery/resend-signature.js';
import type { HistoryCursors } from './history-page.js';

export type HttpServiceDeps = HealthProbes & {
  readonly handlers: Handlers;
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  /**
   * How many proxies in front of the service append the address they saw to X-Forwarded-For
   * (0: the header is ignored and the client is the connecting address).
   */
  readonly trustedProxies: number;
  /**
   * The history endpoints' opaque cursors (the composition root's Service.historyCursors): the
   * same key in every process of a deployment, so a cursor outlives the process that gave it.
   */
  readonly historyCursors: HistoryCursors;
  /** Who may register an operator (OPERATOR_SIGNUP): anyone (default), or only an operator. */
  readonly operatorSignup?: 'open' | 'invite';
  /** The dependency an error says is out of reach, answered 503 (the service's classification). */
  readonly unavailableDependency?: (error: unknown) => string | undefined;
  /** Worker processes serve only the health endpoints. */
  readonly healthOnly?: boolean;
  /** Twilio's status callbacks (PUBLIC_URL with TWILIO_*); without it their route answers 404. */
  readonly twilioStatus?: TwilioStatusSettings;
  /** Resend's webhooks are taken (RESEND_WEBHOOK_SECRET), their signature checked with this. */
  readonly resendEvents?: ResendSignatureCheck;
  /** Providers' receipts recorded (default) or dropped (DELIVERY_RECEIPTS=ignore). */
  readonly deliveryReceipts?: ReceiptMode;
};

/** The whole HTTP API: every router of the contract on the shared middleware shell. */
export const buildHttpApp = (deps: HttpServiceDeps): Koa => {
  const app = createHttpApp({
    logger: deps.logger,
    corsOrigins: deps.corsOrigins,
    ...(deps.unavailableDependency ? { unavailableDependency: deps.unavailableDependency } : {}),
    openApi: openApiDocument,
    routers: deps.healthOnly
      ? [createHealthRouter(deps)]
      : [
          createHealthRouter(deps),
          createAuthRouter(deps.handlers, deps.historyCursors, deps.operatorSignup ?? 'open'),
          createAppsRouter(deps.handlers, deps.historyCursors),
          createOtpRouter(deps.handlers, deps.historyCursors),
          createCodeRouter(deps.handlers),
          createWebhooksRouter(deps.handlers, deps.twilioStatus, deps.resendEvents, deps.deliveryReceipts),
        ],
  });
  // Only the last `trustedProxies` entries of X-Forwarded-For were written by proxies we trust;
  // anything left of them came from the client and may be forged. Koa takes the first address
  // of the entries it keeps, so keeping exactly those makes the client the address the
  // outermost trusted proxy saw (Koa's default, every entry, would let a client choose it).
  app.proxy = deps.trustedProxies > 0;
  app.maxIpsCount = deps.trustedProxies;
  return app;
};
