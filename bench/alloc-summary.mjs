// `node bench/alloc-summary.mjs <file.heapprofile> [--requests N] [--top 30]`: what a sampling
// allocation profile (BENCH_ALLOC_PROF=1, see bench/run.mjs) says was allocated, by package and
// by function. Node-core allocations are charged to the nearest caller outside Node's core.
// With --requests (the scenario's requests in the sampled window: its measured run), also KB per
// request.
import { readFileSync } from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/alloc-summary.mjs <file.heapprofile> [--requests N] [--top 30]');
  process.exit(2);
}
const option = (name, fallback) => {
  const i = rest.indexOf(name);
  return i >= 0 ? Number(rest[i + 1]) : fallback;
};
const requests = option('--requests', 0);
const top = option('--top', 30);
const { head } = JSON.parse(readFileSync(file, 'utf8'));

const packageOf = (url) => {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node core';
  const dependency = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  const own = /\/(dist\/[^/]+\/[^/]+)/.exec(url);
  return own ? own[1] : url;
};
const label = ({ functionName, url, lineNumber }) =>
  `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/dist\//, 'dist/')}:${lineNumber + 1}`;

const byPackage = new Map();
const byFunction = new Map();
let total = 0;
const add = (map, key, size) => map.set(key, (map.get(key) ?? 0) + size);
const walk = (node, callers) => {
  const size = node.selfSize;
  total += size;
  add(byFunction, label(node.callFrame), size);
  let owner = packageOf(node.callFrame.url);
  if (owner === 'node core' || owner === '(native)') {
    const caller = callers.findLast((frame) => !['node core', '(native)'].includes(packageOf(frame.url)));
    if (caller) owner = `${packageOf(caller.url)} (through Node's core)`;
  }
  add(byPackage, owner, size);
  for (const child of node.children) walk(child, [...callers, node.callFrame]);
};
walk(head, []);

const table = (title, map) => {
  console.log(`\n${title}`);
  for (const [key, size] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((size / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
};
console.log(`sampled ${(total / 1e6).toFixed(1)} MB${requests > 0 ? `, ${(total / requests / 1e3).toFixed(1)} KB per request` : ''}`);
table('allocated by package', byPackage);
table('allocated by function', byFunction);
