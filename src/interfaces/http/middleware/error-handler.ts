import type { Middleware } from 'koa';
import { DependencyUnavailable } from '../../../application/errors.js';
import { WrongExpectedRevision, type Logger } from '../../../application/ports.js';
import { describeError } from '../../../infrastructure/logging/describe-error.js';
import { errorStatus, type ErrorCode } from '../error-table.js';
import { HttpError, isRejection, sendProblem, sendRejection, type Problem } from '../errors.js';

/** http-errors (ctx.throw, router, libraries) that are safe to show: status -> API code. */
const exposedStatusCodes: Readonly<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

const exposedHttpError = (error: unknown): Problem | undefined => {
  const { status, expose, message } = (error ?? {}) as { status?: unknown; expose?: unknown; message?: unknown };
  if (expose !== true || typeof status !== 'number' || typeof message !== 'string') return undefined;
  const code = exposedStatusCodes[status];
  return code === undefined ? undefined : { code, message };
};

/**
 * Every failure becomes the JSON error body. Expected outcomes keep their own message;
 * anything unexpected is logged (message and stack only, never request data) and answered
 * generically, so a bug cannot leak secrets through an error body. A dependency out of reach
 * (DependencyUnavailable, or an error `unavailableDependency` recognises: the adapters in use
 * know their libraries' errors) is 503 with Retry-After, as the contract asks.
 */
export const errorHandlerMiddleware =
  (logger: Logger, unavailableDependency: (error: unknown) => string | undefined = () => undefined): Middleware =>
  async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpError) return sendProblem(ctx, error.toProblem());
      if (isRejection(error)) return sendRejection(ctx, error);
      const dependency = error instanceof DependencyUnavailable ? error.dependency : unavailableDependency(error);
      if (dependency !== undefined) {
        const cause = error instanceof DependencyUnavailable ? (error.cause ?? error) : error;
        logger.warn('dependency unavailable', { dependency, ...describeError(cause) });
        return sendProblem(ctx, { code: 'SERVICE_UNAVAILABLE', message: 'A dependency is unavailable; try again shortly', retryAfterSeconds: 5 });
      }
      if (error instanceof WrongExpectedRevision) {
        logger.warn('write conflict after retries', { stream: error.stream });
        return sendProblem(ctx, { code: 'CONFLICT', message: 'The resource was changed concurrently; try again' });
      }
      const exposed = exposedHttpError(error);
      if (exposed !== undefined && errorStatus[exposed.code] < 500) return sendProblem(ctx, exposed);
      logger.error('unhandled error', describeError(error));
      sendProblem(ctx, { code: 'INTERNAL_ERROR', message: 'Internal error' });
    }
  };
