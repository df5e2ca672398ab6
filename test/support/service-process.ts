/**
 * The real service as separate OS processes, started as in production
 * (`node --import register.js main.js`), for tests that need several processes on one database
 * or that kill one. The build is compiled once per source state into its own directory under
 * node_modules/.cache (named by a hash of src/ and the tsconfigs, written to a temporary
 * directory and renamed into place), so concurrent runs never write into one directory and a
 * developer's dist/ is never touched.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Client } from './http-client.js';
import { createTestSchema, type TestSchema } from './postgres.js';
import { startPrivateRedisServer } from './redis-server.js';

const root = resolve('.');
const cacheRoot = join(root, 'node_modules', '.cache', 'otp-verify-processes');

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sourceFiles(path) : [path];
    });

const sourceHash = (): string => {
  const hash = createHash('sha256');
  for (const file of [...sourceFiles(join(root, 'src')), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json'), join(root, 'package-lock.json')]) {
    hash.update(file.slice(root.length)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
};

let compiled: Promise<string> | undefined;

/** Compiles src/ (unless this exact source state is already built) and returns the output directory. */
export const compileService = (): Promise<string> =>
  (compiled ??= (async () => {
    const outDir = join(cacheRoot, sourceHash());
    if (existsSync(join(outDir, 'interfaces', 'main.js'))) return outDir;
    mkdirSync(cacheRoot, { recursive: true });
    const staging = `${outDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', staging], { cwd: root, timeout: 180_000 });
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      const { stdout = '', message } = error as { stdout?: string; message: string };
      throw new Error(`compiling the service failed: ${stdout || message}`);
    }
    try {
      renameSync(staging, outDir);
    } catch {
      // Another run built the same sources first: use its output.
      rmSync(staging, { recursive: true, force: true });
    }
    // Builds of older sources are removed once nobody can still be starting them.
    for (const name of readdirSync(cacheRoot)) {
      const path = join(cacheRoot, name);
      if (path !== outDir && Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
    }
    return outDir;
  })());

export const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });

/** MASTER_KEY and JWT_SECRET shared by every process of one deployment. */
export const deploymentSecrets = (): { MASTER_KEY: string; JWT_SECRET: string } => ({
  MASTER_KEY: randomBytes(32).toString('base64'),
  JWT_SECRET: randomBytes(48).toString('base64'),
});

/**
 * Runs one of the compiled service's commands (`main.js <args>`, e.g. `audit verify`) with only
 * `env` (and PATH); resolves its exit code and output, whatever the code.
 */
export const runCommand = async (env: Readonly<Record<string, string>>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  const outDir = await compileService();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(outDir, 'interfaces', 'main.js'), ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
};

export type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };

export type ServiceProcess = {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Every stdout line (JSON log lines) so far. */
  readonly lines: readonly string[];
  readonly stderr: () => string;
  readonly exited: () => boolean;
  readonly kill: (signal?: NodeJS.Signals) => void;
  readonly waitForExit: (timeoutMs?: number) => Promise<Exit>;
  /** The first stdout line (past or future) matching `predicate`. */
  readonly waitForLine: (predicate: (line: string) => boolean, timeoutMs?: number) => Promise<string>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  readonly stop: (graceMs?: number) => Promise<Exit>;
};

export type StartOptions = {
  /** The service's environment (PATH is added; nothing else is inherited). PORT is set here, HOST to 127.0.0.1 unless given. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly port?: number;
  readonly startTimeoutMs?: number;
  /** false: return once spawned, without waiting for the service to be ready. */
  readonly wait?: boolean;
  /** The command and its arguments (default: none, which serves). */
  readonly args?: readonly string[];
};

const running = new Set<ServiceProcess>();

/**
 * The "listening" log line (the service built and serving), or (when LOG_LEVEL hides it) the
 * first 200 of /health/ready: /health/live answers from the moment the port is bound.
 */
const untilListening = async (service: ServiceProcess, timeoutMs: number): Promise<void> => {
  let started = false;
  const polling = (async () => {
    while (!started && !service.exited()) {
      const ready = await fetch(`${service.url}/health/ready`).then((r) => r.ok, () => false);
      if (ready) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise(() => undefined); // exited: the line watcher reports why
  })();
  try {
    await Promise.race([service.waitForLine((line) => line.includes('"msg":"listening"'), timeoutMs), polling]);
  } finally {
    started = true;
  }
};

export const startServiceProcess = async (options: StartOptions): Promise<ServiceProcess> => {
  const outDir = await compileService();
  const port = options.port ?? (await freePort());
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '' };
  for (const [key, value] of Object.entries({ LOG_LEVEL: 'info', HOST: '127.0.0.1', ...options.env, PORT: String(port) })) {
    if (value !== undefined) env[key] = value;
  }
  const child: ChildProcess = spawn(
    process.execPath,
    ['--enable-source-maps', '--import', join(outDir, 'infrastructure/telemetry/register.js'), join(outDir, 'interfaces/main.js'), ...(options.args ?? [])],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  let stderr = '';
  let exit: Exit | undefined;
  const exitWaiters = new Set<(exit: Exit) => void>();
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const watch of watchers) watch(line);
  });
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    for (const done of exitWaiters) done(exit);
  });

  const waitForExit = (timeoutMs = 15_000): Promise<Exit> =>
    exit
      ? Promise.resolve(exit)
      : new Promise((done, fail) => {
          const timer = setTimeout(() => fail(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
          exitWaiters.add((e) => (clearTimeout(timer), done(e)));
        });

  const waitForLine = (predicate: (line: string) => boolean, timeoutMs = 20_000): Promise<string> => {
    const seen = lines.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((done, fail) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        watchers.delete(watch);
        exitWaiters.delete(onExit);
        outcome();
      };
      const watch = (line: string) => void (predicate(line) && finish(() => done(line)));
      const onExit = (e: Exit) => finish(() => fail(new Error(`process exited (${e.code ?? e.signal}) first\nstderr: ${stderr}\nstdout: ${lines.slice(-20).join('\n')}`)));
      const timer = setTimeout(() => finish(() => fail(new Error(`no matching line within ${timeoutMs} ms\nstderr: ${stderr}\nstdout: ${lines.slice(-20).join('\n')}`))), timeoutMs);
      watchers.add(watch);
      if (exit) onExit(exit);
      else exitWaiters.add(onExit);
    });
  };

  const processHandle: ServiceProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    lines,
    stderr: () => stderr,
    exited: () => exit !== undefined,
    kill: (signal = 'SIGTERM') => void (exit === undefined && child.kill(signal)),
    waitForExit,
    waitForLine,
    stop: async (graceMs = 10_000) => {
      if (exit) return exit;
      child.kill('SIGTERM');
      try {
        return await waitForExit(graceMs);
      } catch {
        child.kill('SIGKILL');
        return waitForExit();
      }
    },
  };
  running.add(processHandle);
  child.once('exit', () => running.delete(processHandle));
  try {
    if (options.wait !== false) await untilListening(processHandle, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return processHandle;
};

/** Stops every service process this test file started and that is still running. */
export const stopAllServiceProcesses = async (): Promise<void> => {
  await Promise.all([...running].map((p) => p.stop(5000)));
};

/** A fresh directory for DATA_DIR and the outbox file; removed by the returned function. */
export const tempDir = (label: string): { path: string; remove: () => void } => {
  const path = mkdtempSync(join(tmpdir(), `otp-verify-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
};

/**
 * Data directories and PostgreSQL schemas for a test file's service processes, kept to be
 * removed together: `cleanUp` stops every service process the file started, then removes the
 * directories and drops the schemas.
 */
export const processScratch = () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  const schemas: TestSchema[] = [];
  return {
    dir: (label: string) => {
      const dir = tempDir(label);
      dirs.push(dir);
      return dir;
    },
    schema: async () => {
      const schema = await createTestSchema();
      schemas.push(schema);
      return schema;
    },
    cleanUp: async (): Promise<void> => {
      await stopAllServiceProcesses();
      for (const dir of dirs) dir.remove();
      for (const schema of schemas) await schema.drop();
    },
  };
};

/**
 * What a deployment of service processes stands on: a fresh PostgreSQL schema, a private
 * redis-server (to kill at will), and a data directory with its outbox file; `env` names them
 * all, with the deployment's secrets. `close` stops every service process this test file
 * started, then removes them.
 */
export const startDeploymentBackends = async (label: string) => {
  const [schema, redis] = await Promise.all([createTestSchema(), startPrivateRedisServer()]);
  const dir = tempDir(label);
  const outboxFile = join(dir.path, 'outbox.jsonl');
  const env: Record<string, string> = { DATABASE_URL: schema.url, REDIS_URL: redis.url, DATA_DIR: dir.path, OUTBOX_FILE: outboxFile, ...deploymentSecrets() };
  const close = async (): Promise<void> => {
    await stopAllServiceProcesses();
    await redis.close();
    await schema.drop();
    dir.remove();
  };
  return { schema, redis, dir, outboxFile, env, close };
};

export type DeploymentBackends = Awaited<ReturnType<typeof startDeploymentBackends>>;

export type StoredEvent = { readonly position: number; readonly stream: string; readonly revision: number; readonly type: string; readonly data: any };

/** The whole event log of a schema, read directly from the `events` table, in position order. */
export const readEventLog = async (databaseUrl: string): Promise<StoredEvent[]> => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ position: string; stream: string; revision: number; type: string; data: string }>(
      'SELECT position::text AS position, stream, revision, type, data::text AS data FROM events ORDER BY events.position',
    );
    return rows.map((r) => ({ position: Number(r.position), stream: r.stream, revision: r.revision, type: r.type, data: JSON.parse(r.data) }));
  } finally {
    await client.end();
  }
};

/** Polls `condition` until it holds, or fails naming `what`. */
export const eventually = async (condition: () => Promise<boolean>, withinMs: number, what: string, everyMs = 100): Promise<void> => {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};

/**
 * Submits each racer's code `perRacer` times at once, every racer at the same time, spread
 * round-robin over `clients` (processes); the answers' [status, error code] per username.
 * Several racers at once give cross-process interleavings many chances to show.
 */
export const raceTotpVerifications = async (
  clients: readonly Client[],
  apiKey: string,
  racers: readonly { readonly username: string; readonly code: string }[],
  perRacer = 20,
): Promise<Map<string, [number, string | undefined][]>> => {
  const answers = await Promise.all(
    racers.flatMap(({ username, code }) =>
      Array.from({ length: perRacer }, async (_, i) => {
        const answer = await clients[i % clients.length]!.post('/api/code/verify', { apiKey, body: { username, otp: code } });
        return [username, [answer.status, answer.body?.code as string | undefined]] as [string, [number, string | undefined]];
      }),
    ),
  );
  const byRacer = new Map<string, [number, string | undefined][]>(racers.map((r) => [r.username, []]));
  for (const [username, answer] of answers) byRacer.get(username)!.push(answer);
  return byRacer;
};
