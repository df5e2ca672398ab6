// Scenario "send then verify": a closed loop of 50 users (BENCH_PAIR_WORKERS), each sending an
// email code, reading it from the outbox once the delivery worker has written it, and verifying
// it by challenge id; then the next user. A closed loop rather than autocannon on each call:
// delivery is asynchronous, so sends alone at full speed only pile up a backlog the worker
// drains later, and the number that matters to a user is the whole pair, wait included.
import http from 'node:http';
import hdr from 'hdr-histogram-js';
import { CONNECTIONS } from './load.mjs';
import { followOutbox } from './outbox.mjs';

const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

const createPoster = (base, apiKey) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const { hostname, port } = new URL(base);
  const post = (path, body) =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = http.request(
        { agent, hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-api-key': apiKey } },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
      req.end(payload);
    });
  return { post, close: () => agent.destroy() };
};

const stats = (h) => ({ p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000, maxMs: h.maxValue / 1000, count: h.totalCount });

const loop = async ({ poster, outbox, seconds, tag, record, workers }) => {
  const deadline = Date.now() + seconds * 1000;
  const counts = { pairs: 0, httpCalls: 0, sendStatus: {}, verifyStatus: {}, deliveryTimeouts: 0, errors: 0 };
  const bump = (map, key) => (map[key] = (map[key] ?? 0) + 1);
  const worker = async (w) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const who = `${tag}-${w}-${i}`;
      try {
        const t0 = performance.now();
        const sent = await poster.post('/api/code/send', { username: who, channel: 'EMAIL', to: `${who}@bench.example.com` });
        const t1 = performance.now();
        counts.httpCalls += 1;
        bump(counts.sendStatus, sent.status);
        if (sent.status !== 202) continue;
        const { challenge_id } = JSON.parse(sent.text);
        const code = await outbox.codeFor(challenge_id, 30_000);
        const t2 = performance.now();
        if (code === null) {
          counts.deliveryTimeouts += 1;
          continue;
        }
        const verified = await poster.post('/api/code/verify', { challenge_id, otp: code });
        const t3 = performance.now();
        counts.httpCalls += 1;
        bump(counts.verifyStatus, verified.status);
        if (verified.status === 200) counts.pairs += 1;
        record?.(t1 - t0, t2 - t1, t3 - t2, t3 - t0);
      } catch {
        counts.errors += 1;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return { ...counts, elapsedS: (performance.now() - started) / 1000 };
};

export const runSendVerifyScenario = async ({ base, apiKey, outboxFile, warmupS, durationS, log, settle, startWindow, countTransactions, workers = CONNECTIONS }) => {
  const poster = createPoster(base, apiKey);
  const outbox = followOutbox(outboxFile);
  try {
    const quiet = await settle();
    const transactions = await countTransactions();
    const warm = await loop({ poster, outbox, seconds: warmupS, tag: 'w', workers });
    const h = { send: histogram(), delivery: histogram(), verify: histogram(), pair: histogram() };
    const us = (ms) => Math.max(1, Math.round(ms * 1000));
    const stop = startWindow();
    const counts = await loop({
      poster,
      outbox,
      seconds: durationS,
      tag: 'm',
      workers,
      record: (send, delivery, verify, pair) => {
        h.send.recordValue(us(send));
        h.delivery.recordValue(us(delivery));
        h.verify.recordValue(us(verify));
        h.pair.recordValue(us(pair));
      },
    });
    const observed = stop();
    const postgres = { ...(await transactions()), pairs: warm.pairs + counts.pairs };
    const pairsPerS = counts.pairs / counts.elapsedS;
    log(`send→verify: ${counts.pairs} pairs in ${counts.elapsedS.toFixed(1)} s`);
    return {
      ...observed,
      quiet,
      postgres,
      ...counts,
      pairsPerS: Math.round(pairsPerS * 10) / 10,
      // Each pair is two HTTP calls; the loop's concurrency is shared by both and by the wait for delivery.
      rps: Math.round(counts.httpCalls / counts.elapsedS),
      send: stats(h.send),
      delivery: stats(h.delivery),
      verify: stats(h.verify),
      pair: stats(h.pair),
    };
  } finally {
    poster.close();
    await outbox.close();
  }
};
