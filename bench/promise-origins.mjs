// Where a TOTP verification's promises come from: starts the service on PostgreSQL + Redis as the
// bench does, with bench/lib/promise-origins-preload.mjs; enrolls users, verifies WARM of them to
// warm up, then counts the promises created while N more are verified one at a time, and prints
// the total per verification and the busiest call sites. Usage (after `npm run build`):
//   node bench/promise-origins.mjs [--verifications 100] [--top 40]
// Each promise costs its allocation and, under AsyncLocalStorage, a hook call (docs/performance.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TOTP_PARAMS, createClient, createOperatorApp, enrollTotpUsers, totp } from './lib/api.mjs';
import { freePort, stopChild } from './lib/processes.mjs';
import { createDatabase, dropDatabase, flushRedisDb } from './lib/resources.mjs';
import { startService } from './lib/service.mjs';

const { values } = parseArgs({ options: { verifications: { type: 'string', default: '100' }, top: { type: 'string', default: '40' } } });
const count = Number(values.verifications);
const warm = 20;
process.chdir(join(import.meta.dirname, '..'));
const DB_NAME = 'otp_verify_promise_origins';
const REDIS_URL = 'redis://127.0.0.1:6379/14';
const dataDir = join('bench', 'results', 'promise-origins');
const file = join(process.cwd(), 'bench', 'results', 'promise-origins.json');

await dropDatabase(DB_NAME);
await createDatabase(DB_NAME);
await flushRedisDb(REDIS_URL);
const port = await freePort();
const service = await startService(
  { port, databaseUrl: `postgres://postgres@127.0.0.1:5432/${DB_NAME}`, redisUrl: REDIS_URL, dataDir, outboxFile: join(dataDir, 'outbox.jsonl') },
  { extraNodeArgs: ['--import', './bench/lib/promise-origins-preload.mjs'] },
);
try {
  const call = createClient(`http://127.0.0.1:${port}`);
  const { apiKey } = await createOperatorApp(call);
  const users = await enrollTotpUsers(call, apiKey, count + warm);
  // Enabling used the current step's code; the next step's is accepted too (window 1).
  const verify = async (user) => {
    const otp = totp.generate(user.secret, TOTP_PARAMS, new Date(Date.now() + TOTP_PARAMS.period * 1000));
    const response = await call('POST', '/api/code/verify', { username: user.username, otp }, { 'x-api-key': apiKey });
    if (response.status !== 200) throw new Error(`verification answered ${response.status}`);
  };
  for (const user of users.slice(count)) await verify(user);
  await sleep(300);
  process.kill(service.pid, 'SIGUSR2');
  await sleep(100);
  for (const user of users.slice(0, count)) await verify(user);
  await sleep(300); // let the projection runner and the access log catch up
  process.kill(service.pid, 'SIGUSR2');
  await sleep(500);
  const { total, sites } = JSON.parse(readFileSync(file, 'utf8'));
  process.stdout.write(`${(total / count).toFixed(1)} promises per verification (${total} over ${count}, one at a time)\n`);
  for (const { count: n, site } of sites.slice(0, Number(values.top))) process.stdout.write(`${(n / count).toFixed(2).padStart(6)}  ${site || '(no JavaScript frame)'}\n`);
} finally {
  await stopChild(service);
  await dropDatabase(DB_NAME);
  await flushRedisDb(REDIS_URL);
}
