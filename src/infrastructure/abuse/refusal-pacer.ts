import { randomInt } from 'node:crypto';
import { setImmediate as nextTurn, setTimeout as sleepFor } from 'node:timers/promises';
import type { RefusalPacer, RefusalSide } from '../../application/ports.js';

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
  /** The longest a refusal is made to wait (ms; default 250). */
  readonly maxWaitMs?: number;
};

type Sample = { readonly duration: number; readonly at: number };
type Ring = { readonly samples: Sample[]; next: number };

/**
 * Keeps, per kind, the durations of the process's recent refusals in two rings of `samples`:
 * known users' and unknown names' (before any wait). A refusal is mapped by quantile: where its
 * own duration ranks among its side's recent ones (ties and the gaps between ranks spread at
 * random), it waits until it has taken the other side's duration of that rank, when that is
 * longer. So at every rank both sides take the slower of the two: an unknown name's refusal is
 * lifted where it costs less (the embedded default, where a known user's failure waits for
 * SQLite's commit), a known user's where it is the unknown name's that costs more (PostgreSQL
 * + Redis under load, where the unknown one reads its empty stream again and then the decoy's
 * counts in Redis, and the known one's append is grouped with others), and neither where both
 * cost about the same, which padding each one to a random duration of the other side would not
 * do (the later of two similar times is slower than either). A wait can only add time. The
 * durations recorded are the refusals' own, before their waits, so the two sides do not lift
 * each other in turn.
 *
 * A refusal names its kinds most specific first (a known user met cold, say, then any known
 * user): it is recorded under each, and mapped onto the first the other side has refused within
 * `maxAgeMs`, so a rare specific kind falls back on its coarser one instead of going without a
 * wait.
 *
 * Bounds, so that neither an outlier (a slow commit) nor a caller can stretch the waits: only
 * refusals of the last `maxAgeMs` are drawn on (a rare kind then falls back on its coarser
 * one, and with none goes without a wait), and no wait is longer than `maxWaitMs`. The caller
 * leaves out of the record the refusals that may have queued behind others of their stream (a
 * caller flooding one account or one made-up name would stretch that side's times, and with
 * them the other side's waits).
 *
 * The gaps are often under a millisecond, finer than a timer: the wait sleeps whole
 * milliseconds while more than two are left (timers fire late), then yields turns of the event
 * loop until the time is reached, so other requests run meanwhile; the event loop is busy for
 * those last one or two milliseconds, about what the other side's own work costs. Kinds are a
 * closed set (the code's shape by the answer), so the memory is a few rings of numbers.
 */
export const createRefusalPacer = (options: RefusalPacerOptions = {}): RefusalPacer => {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));
  const turn = options.nextTurn ?? (() => nextTurn());
  const uniform = options.uniform ?? (() => randomInt(2 ** 47) / 2 ** 47);
  const size = options.samples ?? 64;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  const maxWaitMs = options.maxWaitMs ?? 250;
  const rings: Record<RefusalSide, Map<string, Ring>> = { known: new Map(), unknown: new Map() };
  const other: Record<RefusalSide, RefusalSide> = { known: 'unknown', unknown: 'known' };

  const record = (side: RefusalSide, kind: string, duration: number) => {
    let ring = rings[side].get(kind);
    if (ring === undefined) rings[side].set(kind, (ring = { samples: [], next: 0 }));
    ring.samples[ring.next] = { duration, at: now() };
    ring.next = (ring.next + 1) % size;
  };
  const recent = (side: RefusalSide, kind: string): number[] => {
    const since = now() - maxAgeMs;
    return (rings[side].get(kind)?.samples ?? []).filter((sample) => sample.at >= since).map((sample) => sample.duration);
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
    pace: async (side, kinds, startedAt, keep) => {
      const own = now() - startedAt;
      let theirs: number[] = [];
      const kind = kinds.find((each) => (theirs = recent(other[side], each)).length > 0);
      const at = kind === undefined ? 0 : rank(recent(side, kind), own);
      if (keep) for (const each of kinds) record(side, each, own);
      if (kind === undefined) return;
      const sorted = theirs.sort((a, b) => a - b);
      const target = sorted[Math.min(sorted.length - 1, Math.floor(at * sorted.length))]!;
      await waitUntil(startedAt + Math.min(target, own + maxWaitMs));
    },
  };
};
