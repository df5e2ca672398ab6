import Router, { type RouterContext } from '@koa/router';
import type { Context, Next } from 'koa';
import type { Handlers } from '../../../application/handlers.js';
import { loginBody, registerBody } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { HttpError } from '../errors.js';
import { bearerToken, clientIp, operatorOf, requireOperator, respond } from './context.js';

/** `invite`: only an operator (their bearer token) registers another; `open`: anyone, as the contract has it. */
export const createAuthRouter = (handlers: Handlers, signup: 'open' | 'invite' = 'open'): Router => {
  const router = new Router({ prefix: '/api/auth' });
  const register = async (ctx: RouterContext) => {
    const body = decodeOrThrow(registerBody, ctx.request.body);
    respond(ctx, await handlers.registerAccount(body), 201);
  };
  const invited = async (ctx: Context, next: Next) => {
    if (bearerToken(ctx) === undefined)
      throw new HttpError('UNAUTHENTICATED', "Operator sign-up is by invitation: send an operator's bearer token", { headers: { 'WWW-Authenticate': 'Bearer' } });
    return requireOperator(handlers)(ctx, next);
  };
  const registering = signup === 'invite' ? [invited, register] : [register];
  router.post('/register', ...registering);
  router.post('/', ...registering);

  router.post('/login', async (ctx) => {
    const body = decodeOrThrow(loginBody, ctx.request.body);
    const username = body.username ?? body.email ?? '';
    respond(ctx, await handlers.logIn({ username, password: body.password, client_ip: clientIp(ctx) }), 200);
  });

  router.post('/logout', requireOperator(handlers), async (ctx) => {
    respond(ctx, await handlers.logOut(operatorOf(ctx)), 204, () => undefined);
  });

  router.get('/me', requireOperator(handlers), async (ctx) => {
    respond(ctx, await handlers.getAccount(operatorOf(ctx).account_id), 200);
  });
  return router;
};
