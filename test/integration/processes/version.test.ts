/**
 * A running build says which release it is (package.json's version): in its `listening' line,
 * as its spans' `service.version`, and from `main.js version`, also when run from a compiled
 * copy outside dist/ (the version is read from the package's own package.json above the build).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from '../../support/http-client.js';
import { startOtlpReceiver } from '../../support/otlp-receiver.js';
import { compileService, processScratch, startServiceProcess } from '../../support/service-process.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
const scratch = processScratch();

describe('the release a process says it is', () => {
  afterAll(() => scratch.cleanUp());

  it('is printed by `main.js version`', async () => {
    const outDir = await compileService();
    const { stdout } = await promisify(execFile)(process.execPath, [join(outDir, 'interfaces/main.js'), 'version']);
    expect(stdout).toBe(`${version}\n`);
  }, 200_000);

  it('is in the listening line and on every span', async () => {
    const receiver = await startOtlpReceiver();
    const dir = scratch.dir('version');
    const service = await startServiceProcess({
      env: { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl'), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    try {
      const listening = service.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['msg'] === 'listening');
      expect(listening).toMatchObject({ version });
      expect((await createClient(service.url).get('/health/live')).status).toBe(200);
      const spans = await receiver.waitForSpans((all) => all.length > 0, 15_000);
      expect(spans.map((span) => span.resource['service.version'])).toEqual(spans.map(() => version));
    } finally {
      await service.stop();
      await receiver.close();
    }
  }, 200_000);
});
