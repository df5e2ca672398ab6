import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('in memory', async () => {
  const subject = createInMemoryEventStore();
  return { subject, cleanup: subject.close };
});
