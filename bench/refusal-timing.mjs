// `node bench/refusal-timing.mjs` (after `npm run build`): does a wrong TOTP code take as long
// for a name the app does not know as for a known user? The real service on PostgreSQL + Redis,
// as the bench runs it, or with REFUSAL_TIMING_BACKEND=embedded on the embedded default (where a
// known user's failure waits for SQLite's fsync and an unknown name's only updates counts in
// memory, so the gap was widest). REFUSAL_TIMING_USERS (default 200) enrolled users and as many
// made-up names each fail REFUSAL_TIMING_ROUNDS (default 3, under the policy's 20 attempts) times; the
// verifications go one at a time, known and unknown taking turns (which goes first alternates),
// each timed from request to answer; REFUSAL_TIMING_CONCURRENCY (default 1) runs that many such
// pairs at once, to see the two under load. Prints p10/p50/p90 of both, by round and in all, and the
// unknown's p50 over the known's. A sample, not a test: the two differ by the machine's noise
// even when the service pads (it maps each unknown refusal onto the process's recent known ones).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createOperatorApp, enrollTotpUsers, inPool, totp, TOTP_PARAMS } from './lib/api.mjs';
import { freePort, stopChild } from './lib/processes.mjs';
import { quantile } from './lib/report.mjs';
import { createDatabase, dropDatabase, flushRedisDb } from './lib/resources.mjs';
import { startService } from './lib/service.mjs';

const count = Number(process.env.REFUSAL_TIMING_USERS ?? 200);
const rounds = Number(process.env.REFUSAL_TIMING_ROUNDS ?? 3);
const concurrency = Number(process.env.REFUSAL_TIMING_CONCURRENCY ?? 1);
const DB_NAME = 'otp_verify_refusal_timing';
const REDIS_URL = 'redis://127.0.0.1:6379/12';
const embedded = process.env.REFUSAL_TIMING_BACKEND === 'embedded';
if (!embedded) {
  await dropDatabase(DB_NAME);
  await flushRedisDb(REDIS_URL);
}
const databaseUrl = embedded ? undefined : await createDatabase(DB_NAME);
const redisUrl = embedded ? undefined : REDIS_URL;
const dataDir = mkdtempSync(join(tmpdir(), 'otp-refusal-timing-'));
const port = await freePort();
const service = await startService({ port, databaseUrl, redisUrl, dataDir, outboxFile: join(dataDir, 'outbox.jsonl') });
try {
  const call = createClient(`http://127.0.0.1:${port}`);
  const { apiKey } = await createOperatorApp(call);
  const headers = { 'x-api-key': apiKey };
  const users = await enrollTotpUsers(call, apiKey, count);
  /** A code no step in the window matches: the current one, one digit off. */
  const wrongFor = (secret) => {
    const right = new Set([-1, 0, 1].map((d) => totp.generate(secret, TOTP_PARAMS, new Date(Date.now() + d * 30_000))));
    for (let n = 0; ; n++) {
      const code = String(n).padStart(6, '0');
      if (!right.has(code)) return code;
    }
  };
  const timed = async (username, otp) => {
    const started = performance.now();
    const answer = await call('POST', '/api/code/verify', { username, otp }, headers);
    const ms = performance.now() - started;
    if (answer.status !== 401) throw new Error(`${username}: expected 401, got ${answer.status} ${JSON.stringify(answer.json)}`);
    return ms;
  };
  const known = [];
  const unknown = [];
  for (let round = 0; round < rounds; round++) {
    known.push([]);
    unknown.push([]);
    const pairAt = async (i) => {
      const pair = [
        async () => known[round].push(await timed(users[i].username, wrongFor(users[i].secret))),
        async () => unknown[round].push(await timed(`ghost${i}`, '000000')),
      ];
      if ((i + round) % 2 === 1) pair.reverse();
      for (const one of pair) await one();
    };
    await inPool(users.map((_, i) => i), concurrency, pairAt);
  }
  const line = (name, values) => `${name}: p10 ${quantile(values, 0.1).toFixed(2)} ms, p50 ${quantile(values, 0.5).toFixed(2)} ms, p90 ${quantile(values, 0.9).toFixed(2)} ms`;
  const out = [`${embedded ? 'embedded' : 'PostgreSQL + Redis'}: ${count} known users and ${count} made-up names, ${rounds} wrong codes each, ${concurrency === 1 ? 'one request at a time' : `${concurrency} pairs at a time`}`];
  for (let round = 0; round < rounds; round++)
    out.push(`failure ${round + 1}: ${line('known', known[round])}; ${line('unknown', unknown[round])}; unknown/known p50 ${(quantile(unknown[round], 0.5) / quantile(known[round], 0.5)).toFixed(2)}`);
  const [allKnown, allUnknown] = [known.flat(), unknown.flat()];
  out.push(`all: ${line('known', allKnown)}; ${line('unknown', allUnknown)}; unknown/known p50 ${(quantile(allUnknown, 0.5) / quantile(allKnown, 0.5)).toFixed(2)}`);
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await stopChild(service);
  if (!embedded) {
    await dropDatabase(DB_NAME);
    await flushRedisDb(REDIS_URL);
  }
  rmSync(dataDir, { recursive: true, force: true });
}
