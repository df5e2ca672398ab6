import Router, { type RouterContext } from '@koa/router';
import { right } from 'fp-ts/lib/Either.js';
import type { Handlers } from '../../../application/handlers.js';
import { otpDisableBody, otpEnableBody, otpHistoryQuery, otpRecoveryBody, otpRegisterBody, otpStatusQuery } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { historyPageOf, historyView, type HistoryCursors } from '../history-page.js';
import { appOf, requesterIp, requireCaller, respond } from './context.js';

export const createOtpRouter = (handlers: Handlers, cursors: HistoryCursors): Router => {
  const router = new Router({ prefix: '/api/otp' });
  router.use(requireCaller(handlers));

  router.post('/register', async (ctx) => {
    const body = decodeOrThrow(otpRegisterBody, ctx.request.body);
    const app = await appOf(ctx, handlers, body.app_id);
    if (!app) return;
    const png = ctx.accepts('application/json', 'image/png') === 'image/png';
    const { end_user_ip, ...rest } = body;
    const result = await handlers.registerEnrollment({ ...rest, app, client_ip: requesterIp(ctx, end_user_ip), qr_format: png ? 'png' : 'data_url' });
    // A PNG has no fields to carry the id in; every answer sets it, so clients read it one way.
    if (result._tag === 'Right') ctx.set('X-Enrollment-Id', result.right.enrollment_id);
    if (result._tag === 'Left' || result.right.kind !== 'TOTP') {
      return respond(ctx, result, 201, (r) => ({ enrollment_id: r.enrollment_id, status: r.status, ...(r.kind === 'SENT' ? { challenge_id: r.challenge_id } : {}) }));
    }
    const { enrollment_id, status, secret, digits, period, algorithm, otpauth_uri, qr_code } = result.right;
    // Seeds and QR codes are shown once and must not be cached anywhere.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.status = 201;
    if (typeof qr_code !== 'string') {
      ctx.type = 'image/png';
      ctx.body = qr_code;
      return;
    }
    ctx.body = { enrollment_id, status, secret, digits, period, algorithm, otpauth_uri, qr_code };
  });

  router.put('/enable', async (ctx) => {
    const body = decodeOrThrow(otpEnableBody, ctx.request.body);
    const app = await appOf(ctx, handlers, body.app_id);
    if (!app) return;
    ctx.set('Cache-Control', 'no-store');
    respond(ctx, await handlers.enableEnrollment({ ...body, app }), 200);
  });

  router.put('/disable', async (ctx) => {
    const body = decodeOrThrow(otpDisableBody, ctx.request.body);
    const app = await appOf(ctx, handlers, body.app_id);
    if (!app) return;
    respond(ctx, await handlers.disableEnrollment(app, body.username, body.otp_method), 200);
  });

  router.get('/status', async (ctx) => {
    const query = decodeOrThrow(otpStatusQuery, ctx.query);
    const app = await appOf(ctx, handlers, query.app_id);
    if (!app) return;
    respond(ctx, right(await handlers.getOtpStatus(app, query.username)), 200);
  });

  router.get('/history', async (ctx) => {
    const query = decodeOrThrow(otpHistoryQuery, ctx.query);
    const page = historyPageOf(query, cursors);
    const app = await appOf(ctx, handlers, query.app_id);
    if (!app) return;
    respond(ctx, right(await handlers.getUserHistory(app, query.username, page)), 200, historyView(cursors));
  });

  router.put('/recovery', async (ctx) => {
    const body = decodeOrThrow(otpRecoveryBody, ctx.request.body);
    const app = await appOf(ctx, handlers, body.app_id);
    if (!app) return;
    ctx.set('Cache-Control', 'no-store');
    respond(ctx, await handlers.regenerateRecoveryCodes(app, body.username), 200);
  });
  return router;
};
