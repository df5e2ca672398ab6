import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { runWithRequestContext } from '../../../infrastructure/logging/request-context.js';

const saneRequestId = /^[A-Za-z0-9._-]{1,128}$/;

/** Reuses a caller's X-Request-Id when it is safe to log and echo; otherwise makes one. */
export const requestIdMiddleware = (): Middleware => (ctx, next) => {
  const incoming = ctx.get('X-Request-Id');
  const requestId = saneRequestId.test(incoming) ? incoming : randomUUID();
  ctx.state['requestId'] = requestId;
  ctx.set('X-Request-Id', requestId);
  return runWithRequestContext({ request_id: requestId }, next);
};
