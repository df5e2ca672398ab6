/**
 * A private redis-server process on a free port, for tests that kill and restart Redis (the
 * shared one must never be stopped). A missing binary fails loudly: these tests never skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type PrivateRedisServer = {
  readonly port: number;
  readonly url: string;
  /** Kills the server at once (SIGKILL): no goodbye to clients, like a crash. */
  readonly kill: () => Promise<void>;
  /** Stops (SIGSTOP) / resumes (SIGCONT) the server: connections stay open, nothing answers. */
  readonly freeze: () => void;
  readonly thaw: () => void;
  /** Starts a fresh, empty server on the same port. */
  readonly restart: () => Promise<void>;
  /** Kills the server if running and removes its directory. */
  readonly close: () => Promise<void>;
};

const binary = (): string => process.env['REDIS_SERVER_BIN'] ?? 'redis-server';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const answersPing = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(200, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });

const launch = async (port: number, dir: string): Promise<ChildProcess> => {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn(binary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let failure: string | null = null;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  child.once('error', (error) => void (failure = `${binary()} could not be started (${error.message}); install Redis or set REDIS_SERVER_BIN`));
  child.once('exit', (code) => void (failure ??= `${binary()} exited with ${String(code)}: ${stderr.trim()}`));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (failure !== null) throw new Error(failure);
    if (await answersPing(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${binary()} did not answer on port ${port} within 5 s`);
};

const stop = async (child: ChildProcess | null): Promise<void> => {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
};

export const startPrivateRedisServer = async (): Promise<PrivateRedisServer> => {
  const dir = mkdtempSync(join(tmpdir(), 'otp-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = await launch(port, dir);
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    kill: async () => {
      await stop(child);
      child = null;
    },
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    restart: async () => {
      await stop(child);
      child = await launch(port, dir);
    },
    close: async () => {
      await stop(child);
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
