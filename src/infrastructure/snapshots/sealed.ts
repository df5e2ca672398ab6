/**
 * Snapshots carry a keyed MAC (purpose `snapshot`, under the master key's hash root) over the
 * stream, revision, event id, version and state, checked on every load. The service only ever
 * decides on states the log produced: a snapshot row edited in the database, or copied from
 * another stream, is ignored and the stream is read whole, as if there were none.
 */
import type { KeyedHash, Logger, SafeEqual, Snapshot, SnapshotStore } from '../../application/ports.js';

export const sealSnapshots = (store: SnapshotStore, deps: { readonly keyedHash: KeyedHash; readonly safeEqual: SafeEqual; readonly logger: Logger }): SnapshotStore => {
  const sealOf = (snapshot: Snapshot, stream: string): string =>
    deps.keyedHash('snapshot', JSON.stringify([stream, snapshot.revision, snapshot.event_id, snapshot.version, snapshot.state]));
  return {
    load: async (stream) => {
      const snapshot = await store.load(stream);
      if (snapshot === undefined) return undefined;
      if (snapshot.seal !== undefined && deps.safeEqual(snapshot.seal, sealOf(snapshot, stream))) return snapshot;
      deps.logger.warn('snapshot ignored: its seal does not match (edited or copied); reading the whole stream', { revision: snapshot.revision });
      return undefined;
    },
    save: (snapshot) => store.save({ ...snapshot, seal: sealOf(snapshot, snapshot.stream) }),
  };
};
