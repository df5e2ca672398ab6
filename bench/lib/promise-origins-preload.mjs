// Preload for bench/promise-origins.mjs: while on (SIGUSR2 toggles it), counts every promise
// the process creates by the two frames that created it, and the work that does not depend on
// timing: PostgreSQL statements by text (every pg client's, pooled or not), HMACs and AES-GCM
// operations; the second SIGUSR2 writes the counts to bench/results/promise-origins.json.
// A diagnostic only: capturing a stack per promise is slow.
import { createHook } from 'node:async_hooks';
import crypto from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const out = 'bench/results/promise-origins.json'; // the service runs in the repository
const internal = (frame) =>
  frame.includes('node:internal/async_hooks') || frame.includes('promise-origins-preload') || /^(new Promise|Promise\.then|process\.processTicksAndRejections)/.test(frame);
let on = false;
let total = 0;
const counts = new Map();
const work = new Map();
const tally = (what) => {
  if (on) work.set(what, (work.get(what) ?? 0) + 1);
};
Error.stackTraceLimit = 16;

// The service's pg is this pg (one CommonJS instance), so every client's query passes here.
const pg = createRequire(`${process.cwd()}/package.json`)('pg');
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : (config?.text ?? '(a submittable)');
  tally(`statement: ${text.replace(/\s+/g, ' ').slice(0, 70)}`);
  return query.call(this, config, ...rest);
};
// node:crypto's ESM named exports follow its CommonJS object once synced.
for (const name of ['createHmac', 'createCipheriv', 'createDecipheriv']) {
  const original = crypto[name];
  crypto[name] = (algorithm, ...rest) => {
    tally(`${name}(${algorithm})`);
    return original(algorithm, ...rest);
  };
}
syncBuiltinESMExports();

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
    work.clear();
    total = 0;
    on = true;
    return;
  }
  on = false;
  const sites = [...counts].sort((a, b) => b[1] - a[1]).map(([site, count]) => ({ count, site }));
  const operations = [...work].sort((a, b) => b[1] - a[1]).map(([what, count]) => ({ count, what }));
  writeFileSync(out, JSON.stringify({ total, sites, operations }, null, 1));
});
