/**
 * WEB_CONCURRENCY: when one of the service processes dies, the primary forks another, which
 * binds the shared port only once it is built. Until then its siblings answer every request;
 * none is answered 503 "starting" by the newcomer (as when it bound first and answered its
 * share of connections that way for as long as it took to start).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { join } from 'node:path';
import { createTestSchema } from '../../support/postgres.js';
import { deploymentSecrets, startServiceProcess, stopAllServiceProcesses, tempDir } from '../../support/service-process.js';

/** One request on a connection of its own, so the cluster hands each to a process anew. */
const statusOf = (url: string): Promise<number> =>
  new Promise((resolve) => {
    const req = request(`${url}/health/ready`, { agent: false, headers: { connection: 'close' }, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });

const listening = (lines: readonly string[]) =>
  lines.map((line) => JSON.parse(line) as { msg?: string; pid?: number }).filter((line) => line.msg === 'listening');

describe('a cluster replacing a process', () => {
  const dir = tempDir('cluster');
  afterAll(async () => {
    await stopAllServiceProcesses();
    dir.remove();
  });

  it('answers every request from the running processes while the replacement starts', async () => {
    const schema = await createTestSchema();
    try {
      const service = await startServiceProcess({
        env: { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl'), DATABASE_URL: schema.url, WEB_CONCURRENCY: '2', ...deploymentSecrets() },
      });
      const deadline = Date.now() + 20_000;
      while (listening(service.lines).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const [victim] = listening(service.lines);
      expect(victim?.pid).toEqual(expect.any(Number));

      process.kill(victim!.pid!, 'SIGKILL');
      const replacing = await service.waitForLine((line) => line.includes('"msg":"a service process exited: starting another"'));
      // From the primary's noticing (the replacement forks 2 s later) until the replacement
      // says it listens, and a moment after: every answer a 200. the replacement says it listens, and a moment after: every answer a 200.
      const statuses: number[] = [];
      const until = Date.now() + 30_000;
      let after = 0;
      while (Date.now() < until && after < 20) {
        statuses.push(await statusOf(service.url));
        if (listening(service.lines).length >= 3) after++;
      }
      expect(listening(service.lines)).toHaveLength(3);
      // The primary's line is JSON like the rest, naming the process and how it ended.
      expect(JSON.parse(replacing)).toMatchObject({ level: 'error', pid: expect.any(Number), process_pid: victim!.pid, exit: 'SIGKILL', retry_in_ms: 2000 });
      const starting = service.lines.filter((line) => line.includes('"msg":"starting"'));
      expect(starting.at(-1)).toContain('"binds":"once built"');
      expect(statuses.length).toBeGreaterThan(50);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      expect(await service.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await schema.drop();
    }
  }, 60_000);
});
