/**
 * What the cluster's primary (WEB_CONCURRENCY > 1) does when one of its service processes
 * exits on its own: start another after a backoff, or give up with code 1 so the orchestrator
 * sees a failed service instead of one that forks forever.
 *
 * It gives up only when the service as a whole cannot run: five processes in a row dying
 * within a minute of their start while none has served for a minute. A process that keeps
 * dying while others serve (a database refusing one connection too many, say) is started
 * again, ever more slowly, without taking the serving ones down with it. Serving means built
 * (bound is not: a process binds before it is built) and for a minute, so processes that all
 * crash soon after they are built still end in giving up.
 */

/** A process that dies sooner than this after its start died "at start". */
export const QUICK_DEATH_MS = 60_000;
/** Quick deaths in a row, with nothing serving, after which the primary gives up. */
export const QUICK_DEATHS_TO_GIVE_UP = 5;
/** How long another process must have been built and serving for a death at start not to count toward giving up. */
export const SERVING_FOR_MS = QUICK_DEATH_MS;
/** The longest wait before a process is started again. */
export const MAX_REFORK_DELAY_MS = 60_000;

export type ReforkState = {
  /** Quick deaths in a row while no other process had served for a minute (reset by a long life). */
  readonly failing: number;
};

/** One slot of the cluster: the process started in it and the ones started again in its place. */
export type SlotState = {
  /** Quick deaths in a row of this slot's processes: its backoff. */
  readonly quick: number;
};

export type ReforkDecision =
  | { readonly giveUp: true; readonly state: ReforkState }
  | { readonly giveUp: false; readonly retryInMs: number; readonly state: ReforkState; readonly slot: SlotState };

export const initialRefork: ReforkState = { failing: 0 };
export const initialSlot: SlotState = { quick: 0 };

/**
 * `livedMs`: how long the process that exited had run; `othersServing`: whether another
 * process of the cluster has been built and serving for SERVING_FOR_MS at that moment.
 */
export const afterExit = (state: ReforkState, slot: SlotState, livedMs: number, othersServing: boolean): ReforkDecision => {
  const quick = livedMs < QUICK_DEATH_MS;
  const nextSlot: SlotState = { quick: quick ? slot.quick + 1 : 0 };
  const failing = !quick ? 0 : othersServing ? state.failing : state.failing + 1;
  if (failing >= QUICK_DEATHS_TO_GIVE_UP) return { giveUp: true, state: { failing } };
  return { giveUp: false, retryInMs: Math.min(1000 * 2 ** nextSlot.quick, MAX_REFORK_DELAY_MS), state: { failing }, slot: nextSlot };
};
