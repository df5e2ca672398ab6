/**
 * `npm start` as README tells newcomers and supervisors to run it: npm runs the package's start
 * script, which must `exec` the service so that a SIGTERM sent to npm (what a supervisor or a
 * terminal's Ctrl-C sends) reaches the service and stops it gracefully. Without `exec`, npm exits
 * on the signal and leaves the service running, orphaned, with nothing left to stop it.
 *
 * The start script is taken verbatim from package.json and run by the real npm, in a directory
 * whose `dist` is this test run's build of the sources (`--ignore-scripts` skips `prestart`'s
 * build, which the test has already done).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { compileService, eventually, freePort, tempDir } from '../../support/service-process.js';

const startScript = (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

type Proc = { readonly pid: number; readonly ppid: number; readonly cmdline: string };

/** The processes descended from `root`, with their parents and command lines. */
const descendantsOf = (root: number): Proc[] => {
  const all = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry): Proc[] => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return [{ pid: Number(entry), ppid, cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const found: Proc[] = [];
  for (let parents = [root]; parents.length > 0; ) {
    const next = all.filter((p) => parents.includes(p.ppid));
    found.push(...next);
    parents = next.map((p) => p.pid);
  }
  return found;
};

describe('npm start', () => {
  const dir = tempDir('npm-start');
  let npm: ChildProcess | undefined;
  let started: Proc[] = [];

  beforeAll(async () => {
    const outDir = await compileService();
    writeFileSync(join(dir.path, 'package.json'), JSON.stringify({ name: 'npm-start-test', private: true, type: 'module', scripts: { start: startScript } }));
    symlinkSync(outDir, join(dir.path, 'dist'));
  }, 120_000);
  afterAll(() => {
    // Whatever the outcome, nothing this test started outlives it (an orphaned service would
    // also hold the output pipes open and keep Jest from exiting): npm leads a process group of
    // its own, which everything it started belongs to, found or not.
    for (const { pid } of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (npm?.pid !== undefined)
      try {
        process.kill(-npm.pid, 'SIGKILL');
      } catch {
        /* the group is gone */
      }
    npm?.stdout?.destroy();
    npm?.stderr?.destroy();
    dir.remove();
  });

  it('passes a SIGTERM sent to npm on to the service, which stops gracefully; nothing is left running', async () => {
    const port = await freePort();
    const env = {
      // The npm and node of the Node running the tests come first.
      PATH: [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter),
      HOME: dir.path, // npm's cache and logs stay in the test's directory
      npm_config_update_notifier: 'false',
      DATA_DIR: join(dir.path, 'data'),
      OUTBOX_FILE: join(dir.path, 'outbox.jsonl'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
    };
    npm = spawn('npm', ['start', '--ignore-scripts', '--silent'], { cwd: dir.path, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let spawnError: Error | undefined;
    npm.once('error', (error) => void (spawnError = error));
    const lines: string[] = [];
    createInterface({ input: npm.stdout! }).on('line', (line) => lines.push(line));
    let stderr = '';
    npm.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const npmExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => npm!.once('exit', (code, signal) => done({ code, signal })));
    const msgOf = (line: string): unknown => {
      try {
        return (JSON.parse(line) as { msg?: unknown }).msg;
      } catch {
        return undefined; // npm's own output, not a log line
      }
    };
    const logged = (msg: string) => lines.some((line) => msgOf(line) === msg);

    const within = (condition: () => boolean, ms: number, what: string) =>
      eventually(
        async () => {
          if (spawnError) throw spawnError; // npm not found, say
          return condition();
        },
        ms,
        what,
        50,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nnpm's stderr: ${stderr}\nstdout: ${lines.slice(-20).join('\n')}`);
      });

    await within(() => logged('listening'), 30_000, 'the service\'s "listening" line');
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    // exec: the service is npm's own child, not a shell's; nothing else runs under npm.
    started = descendantsOf(npm.pid!);
    expect(started.map((p) => ({ parent: p.ppid === npm!.pid ? 'npm' : p.ppid, program: p.cmdline.split(' ')[0] }))).toEqual([{ parent: 'npm', program: 'node' }]);
    const servicePid = started[0]!.pid;

    npm.kill('SIGTERM');
    await within(() => logged('stopped'), 15_000, 'the service\'s "stopped" line');
    expect(logged('shutting down')).toBe(true);
    // npm waited for the service and exits with its code.
    expect(await npmExit).toEqual({ code: 0, signal: null });
    await within(() => !alive(servicePid), 5_000, 'the service process gone');
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  }, 60_000);
});
