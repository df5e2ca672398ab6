/** Snapshots in a Map, stored as JSON text so a state comes back as the durable stores return it. */
import type { Snapshot, SnapshotStore } from '../../application/ports.js';

type Stored = { readonly revision: number; readonly version: string; readonly json: string };

export const createInMemorySnapshotStore = (): SnapshotStore => {
  const snapshots = new Map<string, Stored>();
  return {
    load: async (stream) => {
      const held = snapshots.get(stream);
      return held && { stream, revision: held.revision, version: held.version, state: JSON.parse(held.json) as unknown };
    },
    save: async ({ stream, revision, version, state }: Snapshot) => {
      const held = snapshots.get(stream);
      if (held === undefined || held.revision < revision) snapshots.set(stream, { revision, version, json: JSON.stringify(state) });
    },
  };
};
