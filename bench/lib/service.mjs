// The real service as production runs it: tracing registered first, PostgreSQL + Redis.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { startNode, stopChild, waitReady } from './processes.mjs';

/** Only what the service needs: no inherited OTEL_*, DATABASE_URL or provider credentials. */
export const serviceKeys = () => ({ MASTER_KEY: randomBytes(32).toString('base64'), JWT_SECRET: randomBytes(48).toString('base64url') });

/** Without `databaseUrl` and `redisUrl`, the embedded default (SQLite in `dataDir`). */
export const serviceEnv = ({ port, databaseUrl, redisUrl, dataDir, outboxFile, webConcurrency = 1, role = 'all', keys = serviceKeys() }) => withoutUndefined({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  NODE_ENV: 'production',
  PORT: String(port),
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  ...keys,
  PROCESS_ROLE: role,
  LOG_LEVEL: 'info', // as production runs: one JSON line per request
  SENDS_PER_IP_PER_HOUR: '10000000',
  LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: '1000000',
  DATA_DIR: dataDir,
  OUTBOX_FILE: outboxFile,
  WEB_CONCURRENCY: String(webConcurrency),
  // Cache, allocator and logging settings, when the bench is asked to price them (see bench/run.mjs).
  ...Object.fromEntries(['STATE_CACHE_ENTRIES', 'APP_CACHE_MS', 'MALLOC_ARENA_MAX', 'LOG_SEAL_INTERVAL_S', 'LOG_LEVEL'].filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]])),
});

const withoutUndefined = (env) => Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));

export const startService = async (options, { extraNodeArgs = [], tracing = true } = {}) => {
  const telemetry = tracing ? ['--import', './dist/infrastructure/telemetry/register.js'] : [];
  const args = [...extraNodeArgs, ...telemetry, 'dist/interfaces/main.js'];
  mkdirSync(options.dataDir, { recursive: true });
  const proc = startNode(options.role === 'worker' ? 'worker' : 'service', args, serviceEnv(options), { stdoutFile: `${options.dataDir}/${options.role === 'worker' ? 'worker' : 'service'}.log` });
  try {
    await waitReady(proc, `http://127.0.0.1:${options.port}/health/ready`);
  } catch (error) {
    await stopChild(proc);
    throw error;
  }
  return proc;
};
