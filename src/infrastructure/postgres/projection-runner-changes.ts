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
