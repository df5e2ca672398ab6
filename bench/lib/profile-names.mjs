// Shared by bench/profile-summary.mjs (CPU) and bench/alloc-summary.mjs (allocations): how a V8
// profile's frames are named and how their shares are printed.

/** The package a frame belongs to: a node_modules package, a file group under dist/, Node's core, or native/V8. */
export const packageOf = (url) => {
  if (!url) return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const dist = /\/dist\/(.*)$/.exec(url);
  if (dist) return `dist/${dist[1].split('/').slice(0, 2).join('/')}`;
  return url.startsWith('node:') ? 'node core' : url;
};

/** Native or Node-core code: charged to its nearest caller outside it. */
export const isCore = (url) => !url || url.startsWith('node:');

export const frameName = ({ functionName, url, lineNumber }) =>
  `${functionName || '(anonymous)'} ${packageOf(url)}${url ? `:${lineNumber + 1}` : ''}`;

/** Prints the `top` largest entries of `map` as shares of `total`, under `title`. */
export const printShares = (title, map, total, top) => {
  console.log(`\n${title}`);
  for (const [name, amount] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * amount) / total).toFixed(1).padStart(5)}%  ${name}`);
};
