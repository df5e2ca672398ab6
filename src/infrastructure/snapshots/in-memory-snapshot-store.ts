/** Snapshots in a Map, stored as JSON text so a state comes back as the durable stores return it. */
import type { Snapshot, SnapshotStore } from '../../application/ports.js';

type Stored = Omit<Snapshot, 'state'> & { readonly json: string };

export const createInMemorySnapshotStore = (): SnapshotStore => {
  const snapshots = new Map<string, Stored>();
  return {
    load: async (stream) => {
      const held = snapshots.get(stream);
      if (held === undefined) return undefined;
      const { json, ...rest } = held;
      return { ...rest, state: JSON.parse(json) as unknown };
    },
    save: async ({ state, ...rest }: Snapshot) => {
      snapshots.set(rest.stream, { ...rest, json: JSON.stringify(state) });
    },
  };
};
