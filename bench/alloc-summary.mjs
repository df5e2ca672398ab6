// `node bench/alloc-summary.mjs <file.heapprofile> [--requests N] [--top 30]`: what a sampling
// allocation profile (BENCH_ALLOC_PROF=1, see bench/run.mjs) says was allocated, by package and
// by function. Native and Node-core allocations are charged to the nearest caller outside them.
// With --requests (the scenario's requests in the sampled window: its measured run), also KB per
// request.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameName, isCore, packageOf, printShares } from './lib/profile-names.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { requests: { type: 'string', default: '0' }, top: { type: 'string', default: '30' } } });
const [file] = positionals;
if (!file) {
  process.stderr.write('usage: node bench/alloc-summary.mjs <file.heapprofile> [--requests N] [--top 30]\n');
  process.exit(2);
}
const requests = Number(values.requests);
const top = Number(values.top);
const { head } = JSON.parse(readFileSync(file, 'utf8'));

const byPackage = new Map();
const byFunction = new Map();
let total = 0;
const add = (map, key, size) => map.set(key, (map.get(key) ?? 0) + size);
const walk = (node, callers) => {
  const size = node.selfSize;
  total += size;
  add(byFunction, frameName(node.callFrame), size);
  let owner = packageOf(node.callFrame.url);
  if (isCore(node.callFrame.url)) {
    const caller = callers.findLast((frame) => !isCore(frame.url));
    if (caller) owner = `${packageOf(caller.url)} (through Node's core)`;
  }
  add(byPackage, owner, size);
  for (const child of node.children) walk(child, [...callers, node.callFrame]);
};
walk(head, []);

console.log(`sampled ${(total / 1e6).toFixed(1)} MB${requests > 0 ? `, ${(total / requests / 1e3).toFixed(1)} KB per request` : ''}`);
printShares('allocated by package', byPackage, total, top);
printShares('allocated by function', byFunction, total, top);
