// The service's HTTP middleware stack (createHttpApp: server span, request id, access log,
// security headers, CORS, error handler, trailing slash, JSON body, prefix dispatch) around a
// trivial route answering as bench/baseline.mjs does: no authentication, no command, no I/O.
// Run it on PORT beside the baseline under the same load to price the stack alone, e.g.
//   npm run build && PORT=47123 node --import ./dist/infrastructure/telemetry/register.js bench/http-stack.mjs
// then autocannon -c 50 -d 10 -m POST -H content-type=application/json \
//   -b '{"username":"alice","otp":"123456"}' http://127.0.0.1:47123/api/code/verify
import { Router } from '@koa/router';
import { createLogger } from '../dist/infrastructure/logging/logger.js';
import { createHttpApp } from '../dist/interfaces/http/app.js';

const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', pid: false });
const router = new Router({ prefix: '/api/code' });
router.post('/verify', (ctx) => {
  const { otp } = ctx.request.body ?? {};
  ctx.body = { success: typeof otp === 'string', status: 'APPROVED' };
});
createHttpApp({ logger, corsOrigins: [], routers: [router], openApi: {} }).listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
