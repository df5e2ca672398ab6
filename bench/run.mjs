// `npm run bench`: one run, on this machine, of a bare Koa route (the baseline), the floor (the
// least a TOTP verification can do on PostgreSQL + Redis, bench/floor.mjs), TOTP verification
// and send-then-verify through the full service on PostgreSQL + Redis; prints a table and
// writes bench/results/latest.json. Everything listens and connects on 127.0.0.1.
// Tunables (environment):
//   BENCH_DURATION_S (10), BENCH_WARMUP_S (2), BENCH_PILOT_S (3)
//   BENCH_TOTP_USERS (3000 enrolled first), BENCH_TOTP_MAX_USERS (16000 at most, after the pilot:
//     10,000 ran out of fresh codes at ~2,200 req/s, the replays being cheap 401s; a fixed cap
//     keeps runs comparable; 16,000 users' TOTP states fit the default STATE_CACHE_ENTRIES
//     (20,000), recovery-code states are not cached)
//   BENCH_PAIR_WORKERS (50 concurrent users in the send-then-verify loop)
//   BENCH_WEB_CONCURRENCY (1): the service's WEB_CONCURRENCY (processes sharing the port); CPU
//     and RSS then cover all of them
//   BENCH_SPLIT_ROLES=1: an API process (PROCESS_ROLE=api) measured as the service, beside a
//     worker process (PROCESS_ROLE=worker: projections, delivery, sealing) reported as `worker`
//   BENCH_QUIET_WAIT_S (30): before each measurement, wait this long at most for other users of
//     this machine to leave it nearly idle
//   BENCH_ONLY: comma list of baseline, floor, totp, send-verify
//   BENCH_TIME_LIMIT_S (900): clean up and fail past this
// Diagnostics (not how production runs):
//   BENCH_ALLOC_PROF=1: a sampling allocation profile of the service over each measured run
//     (bench/lib/alloc-profile.mjs) into bench/results/; then
//     node bench/alloc-summary.mjs <file> --requests <the scenario's requests>
//   BENCH_CPU_PROF=1: V8 profile of the service into bench/results/; then
//     node bench/profile-summary.mjs <file> --from <window.fromUs> --to <window.toUs>
//   BENCH_NO_TRACING=1: the service without the telemetry --import, to price tracing
//   BENCH_SERVICE_NODE_ARGS: node flags for the service (default "--max-old-space-size=256
//     --max-semi-space-size=8", the heap settings README recommends in production, "Memory";
//     "" runs the service with V8's defaults)
//   STATE_CACHE_ENTRIES, APP_CACHE_MS: passed to the service when set (e.g. 0 to price the caches)
//   LOG_LEVEL: passed to the service when set (default info, as production runs; warn prices the
//     access log's line per request)
//   MALLOC_ARENA_MAX: passed to the service when set (glibc's malloc arenas; README, "Memory")
//   BENCH_GLIBC_TUNABLES: glibc's malloc settings for every server process the bench starts
//     (default: README's recommendation, RECOMMENDED_GLIBC_TUNABLES in bench/lib/processes.mjs;
//     "" runs them with glibc's defaults)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient, createOperatorApp } from './lib/api.mjs';
import { runBaselineScenario } from './lib/baseline-scenario.mjs';
import { runFloorScenario } from './lib/floor-scenario.mjs';
import { waitForQuiet } from './lib/cpu.mjs';
import { countTransactions, startWindow } from './lib/measure.mjs';
import { currentRssMb, freePort, glibcTunables, lifetimePeakRssMb, stopChild } from './lib/processes.mjs';
import { TARGETS, checkTargets, formatChecks, formatDetails, formatTable, rowsOf } from './lib/report.mjs';
import { createDatabase, dropDatabase, flushRedisDb } from './lib/resources.mjs';
import { runSendVerifyScenario } from './lib/send-verify-scenario.mjs';
import { serviceKeys, startService } from './lib/service.mjs';
import { runTotpScenario } from './lib/totp-scenario.mjs';

const here = dirname(fileURLToPath(import.meta.url));
process.chdir(join(here, '..'));
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const cfg = {
  durationS: num('BENCH_DURATION_S', 10),
  warmupS: num('BENCH_WARMUP_S', 2),
  pilotS: num('BENCH_PILOT_S', 3),
  totpUsers: num('BENCH_TOTP_USERS', 3000),
  totpMaxUsers: num('BENCH_TOTP_MAX_USERS', 16000),
  pairWorkers: num('BENCH_PAIR_WORKERS', 50),
  webConcurrency: num('BENCH_WEB_CONCURRENCY', 1),
  quietWaitS: num('BENCH_QUIET_WAIT_S', 30),
  only: (process.env.BENCH_ONLY ?? 'baseline,floor,totp,send-verify').split(',').map((s) => s.trim()),
  timeLimitS: num('BENCH_TIME_LIMIT_S', 900),
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  allocProf: process.env.BENCH_ALLOC_PROF === '1',
  noTracing: process.env.BENCH_NO_TRACING === '1',
  splitRoles: process.env.BENCH_SPLIT_ROLES === '1',
  // The production settings README recommends for processes on PostgreSQL (see "Memory").
  serviceNodeArgs: (process.env.BENCH_SERVICE_NODE_ARGS ?? '--max-old-space-size=256 --max-semi-space-size=8').split(' ').filter(Boolean),
  // Applied in bench/lib/processes.mjs, recorded here.
  glibcTunables,
};
const DB_NAME = 'otp_verify_bench';
const REDIS_URL = 'redis://127.0.0.1:6379/15'; // a logical database of its own, flushed before and after
const resultsDir = join(here, 'results');
const started = Date.now();
const log = (message) => process.stderr.write(`[bench +${Math.round((Date.now() - started) / 1000)}s] ${message}\n`);

const children = [];
const track = (proc) => (children.push(proc), proc);
let tmp;
let cleaned;
const cleanup = () =>
  (cleaned ??= (async () => {
    for (const child of children) await stopChild(child).catch(() => undefined);
    if (cfg.only.some((s) => s !== 'baseline')) {
      await dropDatabase(DB_NAME).catch((e) => log(`could not drop database ${DB_NAME}: ${e.message}`));
      await flushRedisDb(REDIS_URL).catch((e) => log(`could not flush ${REDIS_URL}: ${e.message}`));
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true }); // the outbox holds live codes
  })());
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
setTimeout(() => {
  log(`time limit of ${cfg.timeLimitS} s reached: cleaning up`);
  void cleanup().finally(() => process.exit(1));
}, cfg.timeLimitS * 1000).unref();

const settle = async (pid) => {
  const quiet = await waitForQuiet({ server: pid }, { maxS: cfg.quietWaitS });
  if (!quiet.quiet) log(`other processes still use ${quiet.busyElsewhere} cores after ${quiet.waitedS} s; measuring anyway`);
  else if (quiet.waitedS > 1) log(`waited ${quiet.waitedS} s for other processes to quieten`);
  return quiet;
};

const runServiceScenarios = async (results) => {
  tmp = mkdtempSync(join(tmpdir(), 'otp-bench-'));
  await flushRedisDb(REDIS_URL);
  const databaseUrl = await createDatabase(DB_NAME);
  const port = await freePort();
  const outboxFile = join(tmp, 'outbox.jsonl');
  const extraNodeArgs = [
    ...cfg.serviceNodeArgs,
    ...(cfg.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`] : []),
    ...(cfg.allocProf ? ['--import', './bench/lib/alloc-profile.mjs'] : []),
  ];
  const keys = serviceKeys();
  const shared = { databaseUrl, redisUrl: REDIS_URL, dataDir: join(tmp, 'data'), outboxFile, keys };
  // Split, the worker starts first: it migrates and catches the projections up.
  const worker = cfg.splitRoles ? track(await startService({ ...shared, port: await freePort(), role: 'worker' }, { extraNodeArgs: cfg.serviceNodeArgs, tracing: !cfg.noTracing })) : undefined;
  const service = track(await startService({ ...shared, port, webConcurrency: cfg.webConcurrency, role: cfg.splitRoles ? 'api' : 'all' }, { extraNodeArgs, tracing: !cfg.noTracing }));
  await sleep(1000);
  results.serviceIdleRssMb = currentRssMb(service.pid);
  log(`service ready on port ${port}, idle RSS ${results.serviceIdleRssMb} MB`);
  const base = `http://127.0.0.1:${port}`;
  const call = createClient(base);
  const { apiKey } = await createOperatorApp(call);
  // Under BENCH_ALLOC_PROF the preload samples allocations from a measured run's start to its end.
  const profiled = (stop) => () => (cfg.allocProf && process.kill(service.pid, 'SIGUSR2'), stop());
  const measureService = () => {
    if (cfg.allocProf) process.kill(service.pid, 'SIGUSR2');
    return profiled(startWindow(service.pid, { database: DB_NAME, ...(worker ? { others: { worker: worker.pid } } : {}) }));
  };
  const hooks = { settle: () => settle(service.pid), startWindow: measureService, countTransactions: () => countTransactions(DB_NAME), log };
  const { warmupS, durationS } = cfg;
  if (cfg.only.includes('totp')) {
    results.totp = await runTotpScenario({ base, call, apiKey, ...hooks, initialUsers: cfg.totpUsers, maxUsers: cfg.totpMaxUsers, warmupS, durationS, pilotS: cfg.pilotS });
    log(`TOTP verification: ${results.totp.rps} req/s, statuses ${JSON.stringify(results.totp.statusCodes)}`);
  }
  if (cfg.only.includes('send-verify'))
    results.sendVerify = await runSendVerifyScenario({ base, apiKey, outboxFile, ...hooks, workers: cfg.pairWorkers, warmupS, durationS });
  results.servicePeakRssMb = lifetimePeakRssMb(service.pid);
  if (worker) {
    results.workerPeakRssMb = lifetimePeakRssMb(worker.pid);
    log(`worker process: peak RSS ${results.workerPeakRssMb} MB`);
  }
  await stopChild(service, 15_000); // a graceful exit is what writes the CPU profile
  if (worker) await stopChild(worker, 15_000);
};

const main = async () => {
  log(`config ${JSON.stringify(cfg)}`);
  mkdirSync(resultsDir, { recursive: true });
  const results = { startedAt: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, config: { ...cfg, connections: 50 } };
  if (cfg.only.includes('baseline')) {
    results.baseline = await runBaselineScenario({ track, settle, startWindow: (pid) => startWindow(pid), warmupS: cfg.warmupS, durationS: cfg.durationS });
    log(`baseline: ${results.baseline.rps} req/s`);
  }
  if (cfg.only.includes('floor')) {
    await flushRedisDb(REDIS_URL);
    const databaseUrl = await createDatabase(DB_NAME); // the service's scenarios start on a fresh one
    const startFloorWindow = (pid) => startWindow(pid, { database: DB_NAME });
    results.floor = await runFloorScenario({ track, settle, startWindow: startFloorWindow, countTransactions: () => countTransactions(DB_NAME), databaseUrl, redisUrl: REDIS_URL, warmupS: cfg.warmupS, durationS: cfg.durationS, targetRate: TARGETS.totpRps });
    log(`floor: ${results.floor.rps} req/s, statuses ${JSON.stringify(results.floor.statusCodes)}`);
  }
  if (cfg.only.includes('totp') || cfg.only.includes('send-verify')) await runServiceScenarios(results);
  results.rows = rowsOf(results);
  results.targets = checkTargets(results);
  results.elapsedS = Math.round((Date.now() - started) / 1000);
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const sections = [formatTable(results.rows), formatChecks(results.targets), formatDetails(results)].filter((text) => text.length > 0);
  console.log(`\n${sections.join('\n\n')}\n`);
  console.log(`written to bench/results/latest.json; ${results.elapsedS} s in all`);
};

try {
  await main();
} catch (error) {
  log(`failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
