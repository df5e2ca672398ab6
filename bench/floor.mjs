// The floor: the least work a TOTP verification can do on this machine's PostgreSQL + Redis,
// with none of the service around it. Per request: the same body parser and router as the
// baseline, one HMAC-SHA1 (the service's HOTP of the current step), one Redis SET NX (the single-use
// claim, as the service's replay guard makes it) and one event appended through the service's
// own PostgreSQL event store (dist/: its schema, its group commit, `events_append_batch` with its
// advisory lock, revision check and commit notification), with the expected revision a cached
// state would give. No authentication, no encryption, no validation, no tracing, no logging, no
// projections, nobody listening to the notifications. What this reaches is an upper bound for
// the service on the same machine and hour: the bench prints the service's throughput against
// it as well as against the bare route. Run after `npm run build`.
import { randomBytes, randomUUID } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Redis } from 'ioredis';
import Koa from 'koa';
import pg from 'pg';
import { createPostgresEventStore, eventStoreMigrations } from '../dist/infrastructure/postgres/event-store.js';
import { hotp } from '../dist/infrastructure/otp/totp.js';
import { migrate } from '../dist/infrastructure/postgres/migrate.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
await migrate(pool, eventStoreMigrations);
const store = createPostgresEventStore({ pool, listenConnectionString: process.env.DATABASE_URL });
const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });

const users = new Map(); // username -> { secret, revision }: what the service's state cache holds
const userOf = (username) => {
  let user = users.get(username);
  if (!user) users.set(username, (user = { secret: randomBytes(20), revision: -1 }));
  return user;
};
const app = new Koa();
const router = new Router();
router.post('/api/code/verify', async (ctx) => {
  const { username, otp } = ctx.request.body ?? {};
  const user = userOf(String(username));
  const step = Math.floor(Date.now() / 30_000);
  const matched = hotp(user.secret, step, 6, 'SHA1') === otp; // the load's codes are random: compute, do not refuse
  const claimed = await redis.set(`floor:${username}:${step}:${otp}`, '1', 'PX', 90_000, 'NX');
  if (claimed === null) {
    ctx.status = 401;
    ctx.body = { success: false, status: 'REJECTED' };
    return;
  }
  const metadata = { request_id: randomUUID(), schema_version: 1, command: 'VerifyTotp' };
  const { revision } = await store.append(`enrollment-${username}`, [{ type: 'TotpStepConsumed', data: { step, matched }, metadata }], user.revision < 0 ? 'no_stream' : user.revision);
  user.revision = revision;
  ctx.body = { success: true, status: 'APPROVED' };
});
router.get('/health/ready', (ctx) => {
  ctx.body = { ok: true };
});
app.use(bodyParser()).use(router.routes());
app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  redis.disconnect();
  void Promise.resolve(store.close())
    .then(() => pool.end())
    .finally(() => process.exit(0));
});
