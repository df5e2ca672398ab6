// Child processes of the bench: start, wait until ready, measure memory, stop.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Spawns `node ...args`; keeps the last lines of its output for error messages. */
export const startNode = (name, args, env) => {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    tail.push(...String(chunk).split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 40));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { name, child, pid: child.pid, exited, output: () => tail.join('\n') };
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

export const stopChild = async (proc, graceMs = 5000) => {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
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

export const currentRssMb = (pid) => Math.round(statusKb(pid, 'VmRSS') / 102.4) / 10;

/** Peak RSS of a process since it started, even across the per-scenario resets below. */
export const lifetimePeakRssMb = (pid) => {
  foldHwm(pid);
  return Math.round((lifetimeKb.get(pid) ?? NaN) / 102.4) / 10;
};

/**
 * Peak resident memory of one process over a window. The kernel's own peak (VmHWM) is reset at
 * the start when /proc/<pid>/clear_refs allows it; VmRSS is also sampled every 50 ms, so the
 * answer does not depend on that reset working.
 */
export const watchMemory = (pid) => {
  let resetOk = true;
  foldHwm(pid);
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    resetOk = false;
  }
  let sampled = 0;
  const sample = () => {
    try {
      sampled = Math.max(sampled, statusKb(pid, 'VmRSS'));
    } catch {
      /* the process may have exited; the last sample stands */
    }
  };
  sample();
  const timer = setInterval(sample, 50);
  return () => {
    clearInterval(timer);
    sample();
    foldHwm(pid);
    let hwm = NaN;
    try {
      hwm = statusKb(pid, 'VmHWM');
    } catch {
      /* exited */
    }
    const peakKb = resetOk && Number.isFinite(hwm) ? Math.max(hwm, sampled) : sampled;
    return { peakRssMb: Math.round(peakKb / 102.4) / 10, source: resetOk ? 'VmHWM (reset per scenario) + samples' : 'VmRSS samples every 50 ms' };
  };
};
