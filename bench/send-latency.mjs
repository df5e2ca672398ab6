// `node bench/send-latency.mjs` (after `npm run build`): how long a sent code takes to reach the
// provider when the service is not busy. The real service on PostgreSQL + Redis, as the bench
// runs it; SEND_LATENCY_SENDS (default 60) email sends one at a time, each timed from its 202 to
// its code in the development outbox, with a pause between sends so the delivery worker goes
// idle. Prints p50/p90/max of both the send and the wait. SEND_LATENCY_WEB_CONCURRENCY (default
// 1) runs that many service processes: the projections and the delivery worker then each have
// one leader, not always the same process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, createOperatorApp } from './lib/api.mjs';
import { followOutbox } from './lib/outbox.mjs';
import { freePort, stopChild } from './lib/processes.mjs';
import { quantile } from './lib/report.mjs';
import { createDatabase, dropDatabase, flushRedisDb } from './lib/resources.mjs';
import { startService } from './lib/service.mjs';

const sends = Number(process.env.SEND_LATENCY_SENDS ?? 60);
const DB_NAME = 'otp_verify_send_latency';
const REDIS_URL = 'redis://127.0.0.1:6379/13';
await dropDatabase(DB_NAME);
await flushRedisDb(REDIS_URL);
const databaseUrl = await createDatabase(DB_NAME);
const dataDir = mkdtempSync(join(tmpdir(), 'otp-send-latency-'));
const outboxFile = join(dataDir, 'outbox.jsonl');
const port = await freePort();
const webConcurrency = Number(process.env.SEND_LATENCY_WEB_CONCURRENCY ?? 1);
const service = await startService({ port, databaseUrl, redisUrl: REDIS_URL, dataDir, outboxFile, webConcurrency });
try {
  const call = createClient(`http://127.0.0.1:${port}`);
  const { apiKey } = await createOperatorApp(call);
  const outbox = followOutbox(outboxFile);
  const sendMs = [];
  const waitMs = [];
  for (let i = 0; i < sends; i++) {
    const started = performance.now();
    const sent = await call('POST', '/api/code/send', { username: `u${i}`, channel: 'EMAIL', to: `u${i}@example.com` }, { 'x-api-key': apiKey });
    if (sent.status !== 202) throw new Error(`send: ${sent.status} ${JSON.stringify(sent.json)}`);
    const accepted = performance.now();
    await outbox.codeFor(sent.json.challenge_id, 10_000);
    sendMs.push(accepted - started);
    waitMs.push(performance.now() - accepted);
    await sleep(150 + Math.random() * 100);
  }
  await outbox.close();
  const at = (values, q) => quantile(values, q).toFixed(1);
  const line = (name, values) => `${name}: p50 ${at(values, 0.5)} ms, p90 ${at(values, 0.9)} ms, max ${at(values, 1)} ms`;
  process.stdout.write(`${sends} sends, one at a time\n${line('send (to its 202)', sendMs)}\n${line('202 to code in the outbox', waitMs)}\n`);
} finally {
  await stopChild(service);
  await dropDatabase(DB_NAME);
  await flushRedisDb(REDIS_URL);
  rmSync(dataDir, { recursive: true, force: true }); // the outbox holds live codes
}
