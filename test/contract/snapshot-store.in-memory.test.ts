import { createInMemorySnapshotStore } from '../../src/infrastructure/snapshots/in-memory-snapshot-store.js';
import { snapshotStoreContract } from './snapshot-store.contract.js';

snapshotStoreContract('in-memory', async () => ({ subject: createInMemorySnapshotStore(), cleanup: async () => undefined }));
