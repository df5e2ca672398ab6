// The baseline: a bare Koa 3 + @koa/router route answering a tiny JSON POST, with the same
// body parser as the service and nothing else (no tracing, no logging, no I/O).
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';

const app = new Koa();
const router = new Router();
router.post('/api/code/verify', (ctx) => {
  const { otp } = ctx.request.body ?? {};
  ctx.body = { success: typeof otp === 'string', status: 'APPROVED' };
});
router.get('/health/ready', (ctx) => {
  ctx.body = { ok: true };
});
app.use(bodyParser()).use(router.routes());
app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
