// Scenario "baseline": bench/baseline.mjs, a bare Koa route, under the same load shape.
import { runLoad, summarize } from './load.mjs';
import { freePort, startNode, stopChild, waitReady } from './processes.mjs';

export const runBaselineScenario = async ({ track, settle, startWindow, warmupS, durationS }) => {
  const port = await freePort();
  const proc = track(startNode('baseline', ['bench/baseline.mjs'], { PATH: process.env.PATH ?? '', PORT: String(port), NODE_ENV: 'production' }));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(proc, `${url}/health/ready`);
    const body = JSON.stringify({ username: 'alice', otp: '123456' });
    const load = (duration) => runLoad({ url: `${url}/api/code/verify`, method: 'POST', duration, headers: { 'content-type': 'application/json' }, body });
    const quiet = await settle(proc.pid);
    await load(warmupS);
    const stop = startWindow(proc.pid);
    const result = summarize(await load(durationS));
    return { ...result, ...stop(), quiet };
  } finally {
    await stopChild(proc);
  }
};
