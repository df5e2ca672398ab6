import type { RecordedEvent } from '../../application/ports.js';
import type { Projection, ProjectionChange } from '../../application/read-models.js';

/** The projection's changes for an event, refusing writes outside the collections it declares (a rebuild clears only those). */
export const changesOf = (projection: Projection, event: RecordedEvent): readonly ProjectionChange[] => {
  let changes: readonly ProjectionChange[];
  try {
    changes = projection.apply(event);
  } catch (cause) {
    // Type and position only: event data may hold secrets.
    throw new Error(`Projection ${projection.name} failed on event ${event.position} (${event.type})`, { cause });
  }
  const stray = changes.find((change) => !projection.collections.includes(change.collection));
  if (stray) throw new Error(`Projection ${projection.name} wrote to collection ${stray.collection}, which it does not declare`);
  return changes;
};

export type PagePlan = {
  /** In log order; per event, in the order of the projections (they write disjoint collections). */
  readonly changes: readonly ProjectionChange[];
  /** Projections whose checkpoint moves to `to`. */
  readonly moved: readonly string[];
  readonly to: number;
  /** Every projection's checkpoint once the plan is committed. */
  readonly checkpoints: ReadonlyMap<string, number>;
};

/**
 * What one page does given the stored checkpoints (`stored`, locked by the caller). The page
 * holds every event after `from`, so it serves exactly the projections whose checkpoint is at
 * or above `from`: each applies the events above its own checkpoint and moves to the page's
 * end. One below `from` (just rebuilt) is left as it is, to be read again from its checkpoint.
 */
export const planPage = (
  projections: readonly Projection[],
  stored: ReadonlyMap<string, number>,
  from: number,
  page: readonly RecordedEvent[],
): PagePlan => {
  const to = page.at(-1)?.position ?? from;
  const at = (projection: Projection): number => stored.get(projection.name) ?? 0;
  const served = projections.filter((projection) => at(projection) >= from && at(projection) < to);
  const changes = page.flatMap((event) => served.filter((projection) => event.position > at(projection)).flatMap((projection) => changesOf(projection, event)));
  const checkpoints = new Map(projections.map((projection) => [projection.name, served.includes(projection) ? to : at(projection)]));
  return { changes, moved: served.map((projection) => projection.name), to, checkpoints };
};
