// `node bench/refusal-timing.mjs` (after `npm run build`): does a wrong TOTP code take as long
// for a name the app does not know as for a known user? The real service on PostgreSQL + Redis,
// as the bench runs it, with REFUSAL_TIMING_BACKEND=postgres on PostgreSQL alone (the decoy's
// counts in PostgreSQL, as without Redis or while it is out), or with
// REFUSAL_TIMING_BACKEND=embedded on the embedded default (where a
// known user's failure waits for SQLite's fsync and an unknown name's only updates counts in
// memory, so the gap was widest). REFUSAL_TIMING_USERS (default 200) enrolled users and as many
// made-up names each fail REFUSAL_TIMING_ROUNDS (default 3, under the policy's 20 attempts) times; the
// verifications go one at a time, known and unknown taking turns (which goes first alternates),
// each timed from request to answer; REFUSAL_TIMING_CONCURRENCY (default 1) runs that many such
// pairs at once, to see the two under load. With REFUSAL_TIMING_RESTART=1 the service is started
// again after the users are enrolled, and then fails the even-numbered users and made-up names
// once, untimed: so in the first round the odd-numbered known users are met cold (their first
// verification since the process started reads their stream), as a caller's first probe of a
// name would be after a restart or once the name's state has left the cache, among warm ones;
// it then also prints the first round's cold known users beside the warm ones, and the
// made-up names probed for the first time beside those probed before. Prints p10/p50/p90 of
// both, by round and in all, and the unknown's p50 over the known's. A sample, not a test: the two differ by the machine's noise
// even when the service paces them (it maps each refusal onto the other side's recent ones).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createOperatorApp, enrollTotpUsers, inPool, totp, TOTP_PARAMS } from './lib/api.mjs';
import { freePort, stopChild } from './lib/processes.mjs';
import { quantile } from './lib/report.mjs';
import { createDatabase, dropDatabase, flushRedisDb } from './lib/resources.mjs';
import { serviceKeys, startService } from './lib/service.mjs';

const count = Number(process.env.REFUSAL_TIMING_USERS ?? 200);
const rounds = Number(process.env.REFUSAL_TIMING_ROUNDS ?? 3);
const concurrency = Number(process.env.REFUSAL_TIMING_CONCURRENCY ?? 1);
const DB_NAME = 'otp_verify_refusal_timing';
const REDIS_URL = 'redis://127.0.0.1:6379/12';
const embedded = process.env.REFUSAL_TIMING_BACKEND === 'embedded';
const withoutRedis = process.env.REFUSAL_TIMING_BACKEND === 'postgres';
const restart = process.env.REFUSAL_TIMING_RESTART === '1';
if (!embedded) {
  await dropDatabase(DB_NAME);
  await flushRedisDb(REDIS_URL);
}
const databaseUrl = embedded ? undefined : await createDatabase(DB_NAME);
const redisUrl = embedded || withoutRedis ? undefined : REDIS_URL;
const dataDir = mkdtempSync(join(tmpdir(), 'otp-refusal-timing-'));
const port = await freePort();
const serviceOptions = { port, databaseUrl, redisUrl, dataDir, outboxFile: join(dataDir, 'outbox.jsonl'), keys: serviceKeys() };
let service = await startService(serviceOptions);
try {
  const call = createClient(`http://127.0.0.1:${port}`);
  const { apiKey } = await createOperatorApp(call);
  const headers = { 'x-api-key': apiKey };
  const users = await enrollTotpUsers(call, apiKey, count);
  if (restart) {
    await stopChild(service);
    service = await startService(serviceOptions);
  }
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
  if (restart)
    await inPool(users.map((_, i) => i).filter((i) => i % 2 === 0), concurrency, async (i) => {
      await timed(users[i].username, wrongFor(users[i].secret));
      await timed(`ghost${i}`, '000000');
    });
  const known = [];
  const unknown = [];
  /** The first round's durations by user index (odd: met cold, or a name's first probe). */
  const firstKnown = new Map();
  const firstUnknown = new Map();
  for (let round = 0; round < rounds; round++) {
    known.push([]);
    unknown.push([]);
    const pairAt = async (i) => {
      const pair = [
        async () => {
          const ms = await timed(users[i].username, wrongFor(users[i].secret));
          known[round].push(ms);
          if (round === 0) firstKnown.set(i, ms);
        },
        async () => {
          const ms = await timed(`ghost${i}`, '000000');
          unknown[round].push(ms);
          if (round === 0) firstUnknown.set(i, ms);
        },
      ];
      if ((i + round) % 2 === 1) pair.reverse();
      for (const one of pair) await one();
    };
    await inPool(users.map((_, i) => i), concurrency, pairAt);
  }
  const line = (name, values) => `${name}: p10 ${quantile(values, 0.1).toFixed(2)} ms, p50 ${quantile(values, 0.5).toFixed(2)} ms, p90 ${quantile(values, 0.9).toFixed(2)} ms`;
  const out = [`${embedded ? 'embedded' : withoutRedis ? 'PostgreSQL without Redis' : 'PostgreSQL + Redis'}: ${count} known users and ${count} made-up names, ${rounds} wrong codes each, ${concurrency === 1 ? 'one request at a time' : `${concurrency} pairs at a time`}${restart ? ', the service started again after enrolling' : ''}`];
  for (let round = 0; round < rounds; round++)
    out.push(`failure ${round + 1}: ${line('known', known[round])}; ${line('unknown', unknown[round])}; unknown/known p50 ${(quantile(unknown[round], 0.5) / quantile(known[round], 0.5)).toFixed(2)}`);
  const [allKnown, allUnknown] = [known.flat(), unknown.flat()];
  out.push(`all: ${line('known', allKnown)}; ${line('unknown', allUnknown)}; unknown/known p50 ${(quantile(allUnknown, 0.5) / quantile(allKnown, 0.5)).toFixed(2)}`);
  if (restart) {
    const part = (byIndex, odd) => [...byIndex].filter(([i]) => i % 2 === (odd ? 1 : 0)).map(([, ms]) => ms);
    const [cold, warm, fresh, probed] = [part(firstKnown, true), part(firstKnown, false), part(firstUnknown, true), part(firstUnknown, false)];
    out.push(`failure 1, ${line('known met cold', cold)}; ${line('known met warm', warm)}; cold/warm p50 ${(quantile(cold, 0.5) / quantile(warm, 0.5)).toFixed(2)}`);
    out.push(`failure 1, ${line('unknown probed first', fresh)}; ${line('unknown probed before', probed)}; first/before p50 ${(quantile(fresh, 0.5) / quantile(probed, 0.5)).toFixed(2)}`);
    out.push(`first probes: unknown/known-cold p50 ${(quantile(fresh, 0.5) / quantile(cold, 0.5)).toFixed(2)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await stopChild(service);
  if (!embedded) {
    await dropDatabase(DB_NAME);
    await flushRedisDb(REDIS_URL);
  }
  rmSync(dataDir, { recursive: true, force: true });
}
