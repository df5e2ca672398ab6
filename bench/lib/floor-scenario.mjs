// Scenario "floor": bench/floor.mjs (the least a TOTP verification can do here, see there) on
// the bench's PostgreSQL database and Redis, under the same load shape as the TOTP scenario:
// first held at the TOTP target's rate (what memory that rate takes even with nothing of the
// service in the process; measured first, on a heap no faster run has grown), then saturated.
import { runLoad, summarize } from './load.mjs';
import { freePort, startNode, stopChild, waitReady } from './processes.mjs';

/** As many users as the TOTP scenario's cap: one claim and one event per request, never a replay. */
const USERS = 16_000;

export const runFloorScenario = async ({ track, settle, startWindow, countTransactions, databaseUrl, redisUrl, warmupS, durationS, targetRate }) => {
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '', PORT: String(port), NODE_ENV: 'production', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl };
  const proc = track(startNode('floor', ['bench/floor.mjs'], env));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(proc, `${url}/health/ready`);
    let sent = 0;
    const load = (duration, overallRate) =>
      runLoad({
        url: `${url}/api/code/verify`,
        method: 'POST',
        duration,
        ...(overallRate === undefined ? {} : { overallRate }),
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (req) => {
              const n = sent++;
              // A different user each time round, and a code no earlier request used.
              return { ...req, body: JSON.stringify({ username: `u${n % USERS}`, otp: String(n % 1_000_000).padStart(6, '0') }) };
            },
          },
        ],
      });
    const quiet = await settle(proc.pid);
    const transactions = await countTransactions();
    await load(warmupS, targetRate);
    const stopAtRate = startWindow(proc.pid);
    const atRate = summarize(await load(durationS, targetRate));
    const { peakRssMb, cores } = stopAtRate();
    const atTargetRate = { ...atRate, targetRate, peakRssMb, cores };
    await load(warmupS);
    const before = sent;
    const stop = startWindow(proc.pid);
    const result = summarize(await load(durationS));
    const window = stop();
    const postgres = { ...(await transactions()), requests: sent };
    return { ...result, ...window, quiet, postgres, measuredRequestsSent: sent - before, atTargetRate };
  } finally {
    await stopChild(proc);
  }
};
