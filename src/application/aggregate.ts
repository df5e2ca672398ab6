import type { Decider, DomainEvent } from '../domain/shared/decider.js';

/** A decider with what the application needs to run it: a name, and how its states are kept. */
export type Aggregate<C, S, E extends DomainEvent> = {
  /** Used in span names and logs, e.g. "Challenge". */
  readonly name: string;
  readonly decider: Decider<C, S, E>;
  /** Whether a state is worth keeping in the state cache (default: every state is). */
  readonly cacheable?: (state: S) => boolean;
  /**
   * Long-lived streams keep a snapshot of their state every `every` events, so reading one
   * costs a snapshot and at most `every` events. `version` names the state's format: change it
   * whenever what the events fold to changes (`evolve`, the state's shape, an upcaster), and
   * snapshots of other versions are ignored (then replaced as streams grow).
   */
  readonly snapshot?: { readonly version: string; readonly every: number };
};
