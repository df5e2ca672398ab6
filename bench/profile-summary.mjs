// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by package.
// Usage: node bench/profile-summary.mjs <file.cpuprofile> [--top 25] [--from <us> --to <us>]
// --from/--to keep only samples in that window (monotonic microseconds: the `window` of a
// scenario in bench/results/latest.json, which is on the same clock as V8's timestamps).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameName, isCore, packageOf as where, printShares } from './lib/profile-names.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, from: { type: 'string' }, to: { type: 'string' } } });
const [file] = positionals;
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top 25] [--from <us> --to <us>]\n');
  process.exit(2);
}
const topArg = values.top;
const from = values.from === undefined ? -Infinity : Number(values.from);
const to = values.to === undefined ? Infinity : Number(values.to);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  if (at < from || at > to) continue;
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const fnTotals = new Map();
const pkgTotals = new Map();
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id);
  const fn = frameName(callFrame);
  fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + us);
  const pkg = where(callFrame.url);
  pkgTotals.set(pkg, (pkgTotals.get(pkg) ?? 0) + us);
}
const show = (title, map) => printShares(`${title} (of ${(total / 1e6).toFixed(2)} s sampled)`, map, total, Number(topArg));
// Inclusive: a sample counts for every package with a frame on its stack (async stacks are cut
// at each await, so this undercounts work done in callbacks).
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
for (const [id, us] of selfUs) {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const { url } = byId.get(at).callFrame;
    if (url) seen.add(where(url));
  }
  for (const pkg of seen) inclusive.set(pkg, (inclusive.get(pkg) ?? 0) + us);
}
// Native and Node-core frames (socket writes, crypto, JSON) charged to the package that called them.
const charged = new Map();
for (const [id, us] of selfUs) {
  let at = id;
  while (at !== undefined && isCore(byId.get(at).callFrame.url)) at = parent.get(at);
  const name = at === undefined ? byId.get(id).callFrame.functionName || '(root)' : where(byId.get(at).callFrame.url);
  charged.set(name, (charged.get(name) ?? 0) + us);
}
show('self time by package', pkgTotals);
show('self time by package, native and Node-core work charged to the calling package', charged);
show('inclusive time by package', inclusive);
show('self time by function', fnTotals);
