// Where a TOTP verification's promises come from, and what else it costs that does not depend on
// timing: starts the service on PostgreSQL + Redis as the bench does, with
// bench/lib/promise-origins-preload.mjs; enrolls users, verifies WARM of them to warm up, then
// counts while N more are verified one at a time, and prints the promises per verification with
// the busiest call sites, then PostgreSQL statements, HMACs and AES-GCM operations per
// verification. One at a time, every append and projection page serves one verification: under
// load they are shared. On a machine whose speed varies, these counts compare two builds exactly. Usage (after `npm run build`):
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
  // Enabling used the current step's code; the next step's is accepted too (window 1). It is the
  // last candidate tried, so each verification here computes all three HOTP values; a current
  // code, as in the bench, needs one.
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
  const { total, sites, operations } = JSON.parse(readFileSync(file, 'utf8'));
  process.stdout.write(`${(total / count).toFixed(1)} promises per verification (${total} over ${count}, one at a time)\n`);
  for (const { count: n, site } of sites.slice(0, Number(values.top))) process.stdout.write(`${(n / count).toFixed(2).padStart(6)}  ${site || '(no JavaScript frame)'}\n`);
  const statements = operations.filter(({ what }) => what.startsWith('statement: ')).reduce((sum, { count: n }) => sum + n, 0);
  process.stdout.write(`\n${(statements / count).toFixed(2)} PostgreSQL statements per verification, and the other operations counted:\n`);
  for (const { count: n, what } of operations) process.stdout.write(`${(n / count).toFixed(2).padStart(6)}  ${what}\n`);
} finally {
  await stopChild(service);
  await dropDatabase(DB_NAME);
  await flushRedisDb(REDIS_URL);
}
