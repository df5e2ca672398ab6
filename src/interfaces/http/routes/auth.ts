import Router, { type RouterContext } from '@koa/router';
import type { Handlers } from '../../../application/handlers.js';
import { loginBody, registerBody } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { clientIp, operatorOf, requireOperator, respond } from './context.js';

export const createAuthRouter = (handlers: Handlers): Router => {
  const router = new Router({ prefix: '/api/auth' });
  const register = async (ctx: RouterContext) => {
    const body = decodeOrThrow(registerBody, ctx.request.body);
    respond(ctx, await handlers.registerAccount(body), 201);
  };
  router.post('/register', register);
  router.post('/', register);

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
