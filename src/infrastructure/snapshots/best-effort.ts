/**
 * Snapshots only save work: a failed load reads the whole stream, a failed save is retried at
 * the stream's next interval. Failures are logged, never passed to the command that met them.
 */
import type { Logger, SnapshotStore } from '../../application/ports.js';

export const bestEffortSnapshots = (store: SnapshotStore, logger: Logger): SnapshotStore => ({
  load: async (stream) => {
    try {
      return await store.load(stream);
    } catch (error) {
      logger.warn('snapshot load failed; reading the whole stream', { error: (error as Error).message });
      return undefined;
    }
  },
  save: async (snapshot) => {
    try {
      await store.save(snapshot);
    } catch (error) {
      logger.warn('snapshot save failed', { error: (error as Error).message, revision: snapshot.revision });
    }
  },
});
