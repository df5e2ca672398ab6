// The floor: the least work a TOTP verification can do on this machine's PostgreSQL + Redis,
// with none of the service around it. Per request: the same body parser and router as the
// baseline, one HMAC-SHA1 (the HOTP of the current step), one Redis SET NX (the single-use
// claim) and one event row appended durably, the appends of concurrent requests grouped into one
// INSERT with one statement in flight at a time, as the service's PostgreSQL event store does.
// No authentication, no encryption, no validation, no tracing, no logging, no projections.
// What this reaches is an upper bound for the service on the same machine and hour: the bench
// prints the service's throughput against it as well as against the bare route.
import { createHmac, randomBytes } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Redis } from 'ioredis';
import Koa from 'koa';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
await pool.query(`CREATE TABLE IF NOT EXISTS floor_events (
  position bigserial PRIMARY KEY, stream text NOT NULL, revision integer NOT NULL,
  type text NOT NULL, data jsonb NOT NULL, UNIQUE (stream, revision))`);
const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });

/** Group commit: every append asked for while one INSERT is in flight goes into the next. */
let pending = [];
let inFlight = false;
const flush = () => {
  const batch = pending;
  pending = [];
  inFlight = true;
  pool
    .query('INSERT INTO floor_events (stream, revision, type, data) SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::jsonb[])', [
      batch.map((e) => e.stream),
      batch.map((e) => e.revision),
      batch.map(() => 'TotpVerified'),
      batch.map((e) => e.data),
    ])
    .then(
      () => batch.forEach((e) => e.resolve()),
      (error) => batch.forEach((e) => e.reject(error)),
    )
    .finally(() => {
      inFlight = false;
      if (pending.length > 0) flush();
    });
};
const append = (stream, revision, data) =>
  new Promise((resolve, reject) => {
    pending.push({ stream, revision, data, resolve, reject });
    if (!inFlight) flush();
  });

const users = new Map(); // username -> { secret, revision }: what the service's state cache holds
const userOf = (username) => {
  let user = users.get(username);
  if (!user) users.set(username, (user = { secret: randomBytes(20), revision: 0 }));
  return user;
};
const hotp = (secret, counter) => {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = mac[19] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
};

const app = new Koa();
const router = new Router();
router.post('/api/code/verify', async (ctx) => {
  const { username, otp } = ctx.request.body ?? {};
  const user = userOf(String(username));
  const step = Math.floor(Date.now() / 30_000);
  const matched = hotp(user.secret, step) === otp; // the load's codes are random: compute, do not refuse
  const claimed = await redis.set(`floor:${username}:${step}:${otp}`, '1', 'PX', 90_000, 'NX');
  if (claimed === null) {
    ctx.status = 401;
    ctx.body = { success: false, status: 'REJECTED' };
    return;
  }
  user.revision += 1;
  await append(`totp-${username}`, user.revision, JSON.stringify({ step, matched }));
  ctx.body = { success: true, status: 'APPROVED' };
});
router.get('/health/ready', (ctx) => {
  ctx.body = { ok: true };
});
app.use(bodyParser()).use(router.routes());
app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  redis.disconnect();
  void pool.end().finally(() => process.exit(0));
});
