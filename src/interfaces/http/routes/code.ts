import Router, { type RouterContext } from '@koa/router';
import type { Handlers } from '../../../application/handlers.js';
import type { Channel } from '../../../domain/shared/types.js';
import { appScopeQuery, challengeParams, codeGenerateBody, codeSendBody, codeSendByChannelBody, codeVerifyBody } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { HttpError } from '../errors.js';
import { appOf, requesterIp, requireCaller, respond } from './context.js';

export const createCodeRouter = (handlers: Handlers): Router => {
  const router = new Router({ prefix: '/api/code' });
  router.use(requireCaller(handlers));

  const send = async (ctx: RouterContext, body: { username: string; channel: Channel; to?: string; locale?: string; end_user_ip?: string; app_id?: string }) => {
    const app = await appOf(ctx, handlers, body.app_id);
    if (!app) return;
    const { end_user_ip, ...rest } = body;
    respond(ctx, await handlers.sendCode({ ...rest, app, client_ip: requesterIp(ctx, end_user_ip) }), 202);
  };
  router.post('/send', (ctx) => send(ctx, decodeOrThrow(codeSendBody, ctx.request.body)));
  for (const channel of ['SMS', 'EMAIL', 'WHATSAPP'] as const) {
    router.post(`/${channel.toLowerCase()}`, (ctx) => {
      const body = decodeOrThrow(codeSendByChannelBody, ctx.request.body);
      if (body.channel !== undefined && body.channel !== channel)
        throw new HttpError('VALIDATION_FAILED', 'channel does not match the path', { details: [{ field: 'channel', message: `must be ${channel} on this path` }] });
      return send(ctx, { ...body, channel });
    });
  }

  router.post('/verify', async (ctx) => {
    const body = decodeOrThrow(codeVerifyBody, ctx.request.body);
    const app = await appOf(ctx, handlers, body.app_id);
    if (!app) return;
    const approved = () => ({ success: true, status: 'APPROVED' });
    // With both, the challenge must be that user's: a challenge id is often carried by the end
    // user's browser, and another user's challenge with its right code must not approve this one.
    if (body.challenge_id !== undefined) {
      const named = body.username !== undefined ? { username: body.username } : {};
      return respond(ctx, await handlers.verifyChallenge({ app_id: app.app_id, challenge_id: body.challenge_id, otp: body.otp, ...named }), 200, approved);
    }
    respond(ctx, await handlers.verifyFactor({ app, username: body.username ?? '', otp: body.otp }), 200, approved);
  });

  router.post('/generate', async (ctx) => {
    const body = decodeOrThrow(codeGenerateBody, ctx.request.body);
    const app = await appOf(ctx, handlers, body.app_id);
    if (!app) return;
    ctx.set('Cache-Control', 'no-store');
    respond(ctx, await handlers.generateCode(app, body.username), 201);
  });

  router.get('/:challenge_id', async (ctx) => {
    const { challenge_id } = decodeOrThrow(challengeParams, ctx.params);
    const app = await appOf(ctx, handlers, decodeOrThrow(appScopeQuery, ctx.query).app_id);
    if (!app) return;
    respond(ctx, await handlers.getChallenge(app.app_id, challenge_id), 200);
  });

  router.post('/:challenge_id/cancel', async (ctx) => {
    const { challenge_id } = decodeOrThrow(challengeParams, ctx.params);
    // The query's app_id is appOf's to read, as on every route.
    const scope = decodeOrThrow(appScopeQuery, ctx.request.body ?? {});
    const app = await appOf(ctx, handlers, scope.app_id);
    if (!app) return;
    respond(ctx, await handlers.cancelChallenge(app.app_id, challenge_id), 200);
  });
  return router;
};
