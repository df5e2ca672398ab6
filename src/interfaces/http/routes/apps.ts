import Router, { type RouterContext } from '@koa/router';
import { right } from 'fp-ts/lib/Either.js';
import type { Handlers } from '../../../application/handlers.js';
import { toAppView } from '../../../application/apps/app-view.js';
import { apiKeyRotateBody, appCreateBody, historyQuery, appIdParams, appUpdateBody } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { appBodyLimitBytes } from '../field-rules.js';
import { historyPageOf, historyView, type HistoryCursors } from '../history-page.js';
import { jsonBodyMiddleware } from '../middleware/json-body.js';
import { operatorOf, requireOperator, respond } from './context.js';

export const APPS_PREFIX = '/api/app';

export const createAppsRouter = (handlers: Handlers, cursors: HistoryCursors): Router => {
  const router = new Router({ prefix: APPS_PREFIX });
  router.use(requireOperator(handlers));
  // An app's body may hold its templates whole (appBodyLimitBytes): read only once the operator
  // is known, so nobody unauthenticated gets more than 64 KiB buffered, and only by the routes
  // that take one; a key's rotation takes a small one (or none).
  const appBody = jsonBodyMiddleware({ limitBytes: appBodyLimitBytes });
  const keyBody = jsonBodyMiddleware();
  const appId = (ctx: RouterContext) => decodeOrThrow(appIdParams, ctx.params).id;

  router.post('/', appBody, async (ctx) => {
    const body = decodeOrThrow(appCreateBody, ctx.request.body);
    respond(ctx, await handlers.createApp({ owner_id: operatorOf(ctx).account_id, name: body.name, ...(body.policy ? { policy: body.policy } : {}) }), 201);
  });
  router.get('/', async (ctx) => {
    respond(ctx, right(await handlers.listApps(operatorOf(ctx).account_id)), 200);
  });
  router.get('/:id', async (ctx) => {
    const app = await handlers.getOwnedApp(operatorOf(ctx).account_id, appId(ctx));
    respond(ctx, app, 200, toAppView);
  });
  router.put('/:id', appBody, async (ctx) => {
    const id = appId(ctx);
    const body = decodeOrThrow(appUpdateBody, ctx.request.body);
    respond(ctx, await handlers.updateApp({ actor_id: operatorOf(ctx).account_id, app_id: id, ...body }), 200);
  });
  router.delete('/:id', async (ctx) => {
    respond(ctx, await handlers.deleteApp(operatorOf(ctx).account_id, appId(ctx)), 204, () => undefined);
  });
  router.get('/:id/history', async (ctx) => {
    const page = historyPageOf(decodeOrThrow(historyQuery, ctx.query), cursors);
    respond(ctx, await handlers.getAppHistory(operatorOf(ctx).account_id, appId(ctx), page), 200, historyView(cursors));
  });
  router.put('/:id/api-key', keyBody, async (ctx) => {
    const id = appId(ctx);
    const body = decodeOrThrow(apiKeyRotateBody, ctx.request.body);
    respond(ctx, await handlers.rotateApiKey(operatorOf(ctx).account_id, id, body.keep_previous_seconds ?? 0), 201);
  });
  return router;
};
