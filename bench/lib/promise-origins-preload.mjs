// Preload for bench/promise-origins.mjs: while on (SIGUSR2 toggles it), counts every promise
// the process creates by the two frames that created it; the second SIGUSR2 writes the counts
// to PROMISE_ORIGINS_FILE. A diagnostic only: capturing a stack per promise is slow.
import { createHook } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';

const out = 'bench/results/promise-origins.json'; // the service runs in the repository
const internal = (frame) =>
  frame.includes('node:internal/async_hooks') || frame.includes('promise-origins-preload') || /^(new Promise|Promise\.then|process\.processTicksAndRejections)/.test(frame);
let on = false;
let total = 0;
const counts = new Map();
Error.stackTraceLimit = 16;

createHook({
  init(_id, type) {
    if (!on || type !== 'PROMISE') return;
    on = false; // the stack capture below must not count itself
    total += 1;
    const frames = new Error().stack.split('\n').slice(1).map((line) => line.trim().replace(/^at /, '')).filter((frame) => !internal(frame));
    const site = frames.slice(0, 2).map((frame) => frame.replace(`file://${process.cwd()}/`, '').replace(`${process.cwd()}/`, '')).join(' <- ');
    counts.set(site, (counts.get(site) ?? 0) + 1);
    on = true;
  },
}).enable();

process.on('SIGUSR2', () => {
  if (!on) {
    counts.clear();
    total = 0;
    on = true;
    return;
  }
  on = false;
  const sites = [...counts].sort((a, b) => b[1] - a[1]).map(([site, count]) => ({ count, site }));
  writeFileSync(out, JSON.stringify({ total, sites }, null, 1));
});
