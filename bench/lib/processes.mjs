// Child processes of the bench: start, wait until ready, measure memory, stop.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/**
 * glibc's malloc settings README recommends for production ("Memory"): two arenas instead of
 * eight per core, and fixed trim and mmap thresholds of 128 KB, so freed memory goes back to the
 * system instead of the thresholds rising with the largest blocks freed. BENCH_GLIBC_TUNABLES
 * replaces them; set empty, the processes run with glibc's defaults.
 */
export const RECOMMENDED_GLIBC_TUNABLES = 'glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072';
/** The settings every server process gets (recorded in the bench's results). */
export const glibcTunables = process.env.BENCH_GLIBC_TUNABLES ?? RECOMMENDED_GLIBC_TUNABLES;

/**
 * Spawns `node ...args` with `env` (and the malloc settings above, as every server process the
 * bench measures runs); keeps the last lines of its output for error messages.
 */
export const startNode = (name, args, env, { stdoutFile } = {}) => {
  // A log file, as a collector would take it, so the bench does not spend CPU reading every line.
  const stdout = stdoutFile === undefined ? 'pipe' : openSync(stdoutFile, 'a');
  const allocator = glibcTunables === '' ? {} : { GLIBC_TUNABLES: glibcTunables };
  const child = spawn(process.execPath, args, { env: { ...allocator, ...env }, stdio: ['ignore', stdout, 'pipe'] });
  if (typeof stdout === 'number') closeSync(stdout);
  const tail = [];
  const keep = (chunk) => {
    tail.push(...String(chunk).split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 40));
  };
  child.stdout?.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const logTail = () => (stdoutFile === undefined ? [] : readFileSync(stdoutFile, 'utf8').split('\n').filter(Boolean).slice(-20));
  return { name, child, pid: child.pid, exited, output: () => [...logTail(), ...tail].join('\n') };
};

/** Polls GET url until it answers 200, failing early if the child exits. */
export const waitReady = async (proc, url, timeoutMs = 60_000) => {
  let dead = false;
  proc.exited.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${proc.name} exited during start:\n${proc.output()}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms:\n${proc.output()}`);
};

const parentOf = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // gone
  }
};

/** A process and its descendants (the service's cluster workers, with WEB_CONCURRENCY > 1). */
export const processTree = (root) => {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
};

/** SIGTERM for a graceful exit; past `graceMs`, SIGKILL for the process and its descendants. */
export const stopChild = async (proc, graceMs = 5000) => {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const pid of processTree(proc.pid).reverse())
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
  }, graceMs);
  await proc.exited;
  clearTimeout(timer);
};

const statusKb = (pid, field) => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
};

// Each process's VmHWM folded in before every reset, for its peak over its whole life.
const lifetimeKb = new Map();
const foldHwm = (pid) => {
  try {
    lifetimeKb.set(pid, Math.max(lifetimeKb.get(pid) ?? 0, statusKb(pid, 'VmHWM')));
  } catch {
    /* exited */
  }
};

const treeRssKb = (pids) =>
  pids.reduce((sum, pid) => {
    try {
      return sum + statusKb(pid, 'VmRSS');
    } catch {
      return sum; // exited
    }
  }, 0);

/** Resident memory of a process and its descendants now. */
export const currentRssMb = (pid) => Math.round(treeRssKb(processTree(pid)) / 102.4) / 10;

/**
 * Peak RSS since start, even across the per-scenario resets below: of the process, or for a
 * tree the sum of each process's own peak (an upper bound, as they need not peak together).
 */
export const lifetimePeakRssMb = (pid) => {
  const tree = processTree(pid);
  tree.forEach(foldHwm);
  return Math.round(tree.reduce((sum, p) => sum + (lifetimeKb.get(p) ?? 0), 0) / 102.4) / 10;
};

/**
 * Peak resident memory over a window of one process, or of a process tree summed. For a single
 * process the kernel's own peak (VmHWM) is reset at the start when /proc/<pid>/clear_refs
 * allows it; the RSS is also sampled every 50 ms, so the answer never depends on that reset.
 */
export const watchMemory = (pid) => {
  const tree = processTree(pid);
  tree.forEach(foldHwm);
  let resetOk = tree.length === 1;
  try {
    if (resetOk) writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    resetOk = false;
  }
  let sampled = 0;
  const sample = () => (sampled = Math.max(sampled, treeRssKb(tree)));
  sample();
  const timer = setInterval(sample, 50);
  return () => {
    clearInterval(timer);
    sample();
    tree.forEach(foldHwm);
    let hwm = NaN;
    try {
      if (resetOk) hwm = statusKb(pid, 'VmHWM');
    } catch {
      /* exited */
    }
    const peakKb = Number.isFinite(hwm) ? Math.max(hwm, sampled) : sampled;
    const source = Number.isFinite(hwm) ? 'VmHWM (reset per scenario) + samples' : `VmRSS of ${tree.length} process(es) summed, sampled every 50 ms`;
    return { peakRssMb: Math.round(peakKb / 102.4) / 10, source };
  };
};
