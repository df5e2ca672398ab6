import Router from '@koa/router';
import { right } from 'fp-ts/lib/Either.js';
import type { Context } from 'koa';
import type { Handlers } from '../../../application/handlers.js';
import { historyQuery, loginBody, passwordChangeBody, registerBody } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { historyPageOf, historyView, type HistoryCursors } from '../history-page.js';
import { clientIp, operatorOf, requireOperator, respond } from './context.js';

const AUTH_PREFIX = '/api/auth';
/** Takes no body: the JSON body middleware leaves its body unread (app.ts). */
export const LOGOUT_PATH = `${AUTH_PREFIX}/logout`;

/**
 * `invite`: only an operator (their bearer token) registers another; `open`: anyone, as the
 * contract has it. `cursors`: the account history's paging cursors.
 */
export const createAuthRouter = (handlers: Handlers, cursors: HistoryCursors, signup: 'open' | 'invite' = 'open'): Router => {
  const router = new Router({ prefix: AUTH_PREFIX });
  const register = async (ctx: Context) => {
    const body = decodeOrThrow(registerBody, ctx.request.body);
    respond(ctx, await handlers.registerAccount({ ...body, client_ip: clientIp(ctx) }), 201);
  };
  const invited = requireOperator(handlers, "Operator sign-up is by invitation: send an operator's bearer token");
  for (const path of ['/register', '/']) {
    if (signup === 'invite') router.post(path, invited, register);
    else router.post(path, register);
  }

  router.post('/login', async (ctx) => {
    const body = decodeOrThrow(loginBody, ctx.request.body);
    const username = body.username ?? body.email ?? '';
    respond(ctx, await handlers.logIn({ username, password: body.password, client_ip: clientIp(ctx) }), 200);
  });

  router.post('/logout', requireOperator(handlers), async (ctx) => {
    respond(ctx, await handlers.logOut(operatorOf(ctx)), 204, () => undefined);
  });

  router.put('/password', requireOperator(handlers), async (ctx) => {
    const body = decodeOrThrow(passwordChangeBody, ctx.request.body);
    respond(ctx, await handlers.changePassword(operatorOf(ctx), { ...body, client_ip: clientIp(ctx) }), 200);
  });

  router.get('/me', requireOperator(handlers), async (ctx) => {
    respond(ctx, await handlers.getAccount(operatorOf(ctx).account_id), 200);
  });
  router.get('/history', requireOperator(handlers), async (ctx) => {
    const page = historyPageOf(decodeOrThrow(historyQuery, ctx.query), cursors);
    respond(ctx, right(await handlers.getAccountHistory(operatorOf(ctx).account_id, page)), 200, historyView(cursors));
  });
  return router;
};
