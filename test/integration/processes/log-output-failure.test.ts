/**
 * Verifications go on when log lines cannot be written. The service started as in production,
 * its stdout appended to a file under a file-size limit (`ulimit -f`, so writes fail with
 * EFBIG as they would with ENOSPC on a full disk): it keeps answering, says so once on stderr,
 * resumes writing when the file takes lines again, and exits on SIGTERM. Before, the failed
 * write became an uncaught error whose exit flush retried for ever: the process stopped
 * answering and never exited.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileService, eventually, freePort, tempDir } from '../../support/service-process.js';

describe('log output that cannot be written', () => {
  const dir = tempDir('log-output');
  afterAll(() => dir.remove());

  it('keeps serving, says so once, resumes when stdout takes lines, and exits on SIGTERM', async () => {
    const outDir = await compileService();
    const port = await freePort();
    const logFile = join(dir.path, 'service.log');
    writeFileSync(logFile, '');
    const limitKb = 64;
    const command = [
      `ulimit -f ${limitKb}`,
      `exec "${process.execPath}" --import "${join(outDir, 'infrastructure/telemetry/register.js')}" "${join(outDir, 'interfaces/main.js')}" >> "${logFile}"`,
    ].join('; ');
    const child = spawn('bash', ['-c', command], {
      cwd: resolve('.'),
      env: { PATH: process.env['PATH'] ?? '', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: join(dir.path, 'data'), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const url = `http://127.0.0.1:${port}`;
    // A process that stopped answering fails the test in seconds, not at its timeout.
    const live = () => fetch(`${url}/health/live`, { signal: AbortSignal.timeout(5000) });
    try {
      await eventually(async () => (await fetch(`${url}/health/ready`).then((r) => r.status, () => 0)) === 200, 20_000, 'the service is ready');
      // Access lines until the file is at its limit and writes fail; every request is answered.
      const statuses: number[] = [];
      for (let i = 0; i < 2000 && !stderr.includes('log lines cannot be written'); i++) statuses.push((await live()).status);
      expect(stderr).toContain('"msg":"log lines cannot be written to stdout: serving on, dropping lines until it takes them again"');
      expect(stderr).toContain('"error":"EFBIG"');
      for (let i = 0; i < 200; i++) statuses.push((await live()).status);
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect(statSync(logFile).size).toBeLessThanOrEqual(limitKb * 1024);
      // Room again (the file emptied; appends go to its end): writing resumes by itself.
      truncateSync(logFile, 0);
      await eventually(async () => readFileSync(logFile, 'utf8').includes('"msg":"log lines are written to stdout again"'), 10_000, 'logging resumes');
      await live();
      await eventually(async () => readFileSync(logFile, 'utf8').includes('"msg":"request"'), 5_000, 'access lines again');
      expect(stderr.match(/log lines cannot be written/g)).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await Promise.race([exited, new Promise<string>((done) => setTimeout(() => done('still running 15 s after SIGTERM'), 15_000))]);
    if (typeof code === 'string') child.kill('SIGKILL');
    expect(code).toBe(0);
  }, 120_000);
});
