// Where the machine's CPU went during a window: the process under test (with its descendants),
// PostgreSQL serving the bench's database, PostgreSQL's shared processes (WAL writer,
// checkpointer...), Redis, the load generator (this process), and `other`: the rest of the
// machine's busy time, i.e. other users' processes and kernel work no process is charged for
// (a few hundredths of a core here with one service process, more with a cluster's IPC).
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const TICKS_PER_S = 100; // USER_HZ on Linux

const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process is gone
  }
};

const processTicks = (pid) => {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  // utime + stime; starttime (ticks after boot) tells a reused pid from the process it had before
  return { comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), start: Number(fields[19]) };
};

const machineTicks = () => {
  const n = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: n[0] + n[1] + n[2] + n[5] + n[6] + n[7], idle: n[3] + n[4] };
};

/**
 * Classifies a process: one of `pids` or their descendants (cluster workers) by name; PostgreSQL
 * backends by the database named in their process title.
 */
const classifier = (pids, database) => (pid, comm, parentOf) => {
  for (let at = pid, depth = 0; at > 1 && depth < 8; at = parentOf(at), depth++)
    for (const [name, id] of Object.entries(pids)) if (id === at) return name;
  if (comm === 'postgres') {
    const title = (read(`/proc/${pid}/cmdline`) ?? '').replace(/\0/g, ' ');
    if (database && title.includes(` ${database} `)) return 'postgres';
    // A client backend's title is "postgres: <cluster>: <user> <database> <host>(<port>) <state>".
    if (!/: \S+ \S+ (\[local\]|\S+\(\d+\))/.test(title)) return 'postgres_shared';
    return undefined; // another database's backend: someone else's work
  }
  if (comm.startsWith('redis-server')) return 'redis';
  return undefined;
};

const snapshot = (classify) => {
  const perPid = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const t = processTicks(Number(entry));
    if (t) perPid.set(Number(entry), t);
  }
  const parentOf = (pid) => perPid.get(pid)?.ppid ?? 0;
  for (const [pid, t] of perPid) t.group = classify(pid, t.comm, parentOf);
  return { perPid, machine: machineTicks() };
};

/**
 * Starts counting; the returned function gives the average cores used per group. Processes are
 * sampled every `everyMs`, so one that starts inside the window (a pooled connection's new
 * backend) counts in full, and one that ends inside it counts up to its last sighting.
 */
export const watchCpu = (pids, database, { everyMs = 250 } = {}) => {
  const classify = classifier({ loadgen: process.pid, ...pids }, database);
  const first = snapshot(classify);
  const t0 = performance.now();
  const used = { ...Object.fromEntries(Object.keys(pids).map((k) => [k, 0])), postgres: 0, postgres_shared: 0, redis: 0, loadgen: 0 };
  let seen = first.perPid;
  const fold = () => {
    const now = snapshot(classify);
    for (const [pid, a] of now.perPid) {
      if (!a.group) continue;
      const before = seen.get(pid);
      // Unseen before (or a reused pid): it started after the last sample, so all its time is in the window.
      used[a.group] += before && before.start === a.start ? a.ticks - before.ticks : a.ticks;
    }
    seen = now.perPid;
    return now;
  };
  const timer = setInterval(fold, everyMs);
  return () => {
    clearInterval(timer);
    const last = fold();
    const seconds = (performance.now() - t0) / 1000;
    const busy = last.machine.busy - first.machine.busy;
    const idle = last.machine.idle - first.machine.idle;
    const cores = (ticks) => Math.round((ticks / TICKS_PER_S / seconds) * 100) / 100;
    const ours = Object.values(used).reduce((a, b) => a + b, 0);
    return { cores: { ...Object.fromEntries(Object.entries(used).map(([k, v]) => [k, cores(v)])), other: cores(Math.max(0, busy - ours)), idle: cores(idle) } };
  };
};

/**
 * Waits (at most `maxS`) until processes outside the bench use less than `threshold` cores
 * over one second: other people's builds and tests share this machine.
 */
export const waitForQuiet = async (pids, { maxS, threshold = 0.25 }) => {
  const t0 = Date.now();
  for (;;) {
    const stop = watchCpu(pids);
    await sleep(1000);
    const { cores } = stop();
    const busyElsewhere = Math.round((cores.other + cores.postgres_shared + cores.redis) * 100) / 100;
    const waitedS = Math.round((Date.now() - t0) / 1000);
    if (busyElsewhere < threshold || waitedS >= maxS) return { waitedS, busyElsewhere, quiet: busyElsewhere < threshold };
  }
};
