import { randomInt } from 'node:crypto';
import { setImmediate as nextTurn, setTimeout as sleepFor } from 'node:timers/promises';
import type { RefusalPacer } from '../../application/ports.js';

export type RefusalPacerOptions = {
  /** Monotonic milliseconds (default `performance.now`). */
  readonly now?: () => number;
  /** A timer of whole milliseconds, which may fire late (default `setTimeout`). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** One turn of the event loop, letting other work run (default `setImmediate`). */
  readonly nextTurn?: () => Promise<void>;
  /** Uniform in [0, 1) (default from `crypto.randomInt`: not the caller's to predict). */
  readonly uniform?: () => number;
  /** How many recent refusals are kept per kind, known and unknown apart. */
  readonly samples?: number;
  /** Refusals older than this are no longer drawn on (ms; default 10 minutes). */
  readonly maxAgeMs?: number;
  /** The longest an unknown refusal is made to wait (ms; default 250). */
  readonly maxWaitMs?: number;
};

type Sample = { readonly duration: number; readonly at: number };
type Ring = { readonly samples: Sample[]; next: number };

/**
 * Keeps, per kind, the durations of the process's recent refusals in two rings of `samples`:
 * known users' and unknown names' (before any wait). An unknown name's refusal is mapped by
 * quantile: where its own duration ranks among the recent unknown ones (ties and the gaps
 * between ranks spread at random), it waits until it has taken the known duration of that
 * rank. So the unknown refusals take the known ones' distribution: lifted by the gap where an
 * unknown name costs less (the embedded default, where a known user's failure waits for
 * SQLite's commit), and left as they are where both cost about the same (PostgreSQL + Redis),
 * which padding each one to a random known duration would not do (the later of two similar
 * times is slower than either). A wait can only add time: an unknown refusal slower than the
 * known one of its rank is answered at once.
 *
 * Bounds, so that neither an outlier (a slow commit) nor a caller can stretch the waits: only
 * refusals of the last `maxAgeMs` are drawn on (a rare kind then goes without a wait until the
 * next known one), and no wait is longer than `maxWaitMs`. The caller leaves out known
 * refusals that may have queued behind others of their stream (a caller flooding their own
 * account would stretch the known times).
 *
 * The gaps are often under a millisecond, finer than a timer: the wait sleeps whole
 * milliseconds while more than two are left (timers fire late), then yields turns of the event
 * loop until the time is reached, so other requests run meanwhile; the event loop is busy for
 * those last one or two milliseconds, about what the known refusal's own work costs. Kinds
 * are a closed set (the code's shape by the answer), so the memory is a few rings of numbers.
 * Only unknown refusals wait: where the unknown ones are the slower (PostgreSQL + Redis under
 * load), this cannot even them out (docs/ARCHITECTURE.md, Known gaps).
 */
export const createRefusalPacer = (options: RefusalPacerOptions = {}): RefusalPacer => {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));
  const turn = options.nextTurn ?? (() => nextTurn());
  const uniform = options.uniform ?? (() => randomInt(2 ** 47) / 2 ** 47);
  const size = options.samples ?? 64;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  const maxWaitMs = options.maxWaitMs ?? 250;
  const known = new Map<string, Ring>();
  const unknown = new Map<string, Ring>();

  const record = (rings: Map<string, Ring>, kind: string, duration: number) => {
    let ring = rings.get(kind);
    if (ring === undefined) rings.set(kind, (ring = { samples: [], next: 0 }));
    ring.samples[ring.next] = { duration, at: now() };
    ring.next = (ring.next + 1) % size;
  };
  const recent = (rings: Map<string, Ring>, kind: string): number[] => {
    const since = now() - maxAgeMs;
    return (rings.get(kind)?.samples ?? []).filter((sample) => sample.at >= since).map((sample) => sample.duration);
  };

  /** Where `duration` ranks among `others`, in [0, 1): below every one near 0, above every one near 1. */
  const rank = (others: readonly number[], duration: number): number => {
    let below = 0;
    let equal = 0;
    for (const other of others) {
      if (other < duration) below += 1;
      else if (other === duration) equal += 1;
    }
    return (below + uniform() * (equal + 1)) / (others.length + 1);
  };

  // How much earlier than its target a wait aims, learnt from how late the waits ended: a busy
  // event loop runs a timer or a turn late by about the time it takes to go round once, which
  // under load is several milliseconds (an integral controller: each wait moves it by a tenth
  // of how late, or early, that wait ended).
  let aimEarly = 0;
  const waitUntil = async (deadline: number): Promise<void> => {
    const aim = deadline - aimEarly;
    if (aim <= now()) return;
    const coarse = Math.floor(aim - now() - 1);
    if (coarse >= 1) await sleep(coarse);
    while (now() < aim) await turn();
    aimEarly = Math.min(maxWaitMs, Math.max(0, aimEarly + 0.1 * (now() - deadline)));
  };

  return {
    start: now,
    known: (kind, startedAt) => record(known, kind, now() - startedAt),
    pad: async (kind, startedAt) => {
      const own = now() - startedAt;
      const knownDurations = recent(known, kind);
      const at = rank(recent(unknown, kind), own);
      record(unknown, kind, own);
      if (knownDurations.length === 0) return;
      const sorted = knownDurations.sort((a, b) => a - b);
      const target = sorted[Math.min(sorted.length - 1, Math.floor(at * sorted.length))]!;
      await waitUntil(startedAt + Math.min(target, own + maxWaitMs));
    },
  };
};
