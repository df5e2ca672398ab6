/**
 * Read models held in memory, rebuilt from the whole log on every start. All projections' changes
 * for an event are computed before any is applied, so a projection that throws leaves the
 * documents as they were before that event. Such a failure is permanent: the runner stops
 * consuming, and `start`/`waitFor` reject with it (and `onError` is told) rather than serving
 * silently stale data.
 */
import type { EventStore, RecordedEvent, Subscription } from '../../application/ports.js';
import type { Document, Projection, ProjectionChange, ReadModels } from '../../application/read-models.js';
import { checkFindOptions, narrow } from './find-options.js';
import { addWaiter, type Waiter } from './waiters.js';

export type ReadModelRunner = ReadModels & {
  /** Subscribes to the log and resolves once caught up with its head at call time. */
  readonly start: () => Promise<void>;
  readonly stop: () => Promise<void>;
};

export type InMemoryReadModelsOptions = {
  /** How long `waitFor` waits before rejecting (default 5000 ms). */
  readonly waitTimeoutMs?: number;
  readonly onError?: (error: Error) => void;
  /** Told the changes of each event once they are applied (when there are any); its exceptions are ignored. */
  readonly onApplied?: (changes: readonly ProjectionChange[]) => void;
};


const INDEXED = 'owner_id';

export const createInMemoryReadModels = (
  store: EventStore,
  projections: readonly Projection[],
  options: InMemoryReadModelsOptions = {},
): ReadModelRunner => {
  const timeoutMs = options.waitTimeoutMs ?? 5000;
  const collections = new Map<string, Map<string, Document>>();
  const waiters = new Set<Waiter>();
  let applied = 0;
  let failure: Error | undefined;
  let subscription: Subscription | undefined;

  const collection = (name: string): Map<string, Document> => {
    const existing = collections.get(name);
    if (existing) return existing;
    const created = new Map<string, Document>();
    collections.set(name, created);
    return created;
  };

  // Ids by owner_id per collection: the field queried on large collections (an operator's
  // apps, an end user's challenges), so findBy on it does not scan every document.
  const owners = new Map<string, Map<string, Set<string>>>();
  const index = (name: string, id: string, doc: Document | undefined, add: boolean): void => {
    const owner = doc?.[INDEXED];
    if (owner === undefined) return;
    let byOwner = owners.get(name);
    if (!byOwner) owners.set(name, (byOwner = new Map()));
    const key = String(owner);
    const ids = byOwner.get(key) ?? new Set<string>();
    if (add) byOwner.set(key, ids.add(id));
    else if (ids.delete(id) && ids.size === 0) byOwner.delete(key);
  };

  const applyChange = (change: ProjectionChange): void => {
    const docs = collection(change.collection);
    const before = docs.get(change.id);
    let after: Document | undefined;
    if (change.op === 'put') after = structuredClone(change.doc);
    else if (change.op === 'merge' && before) after = { ...before, ...structuredClone(change.patch) };
    else if (change.op === 'merge') return;
    index(change.collection, change.id, before, false);
    if (after) {
      docs.set(change.id, after);
      index(change.collection, change.id, after, true);
    } else docs.delete(change.id);
  };

  const changesFor = (event: RecordedEvent): readonly ProjectionChange[] =>
    projections.flatMap((projection) => {
      try {
        return projection.apply(event);
      } catch (cause) {
        // Type and position only: event data may hold secrets.
        throw new Error(`Projection ${projection.name} failed on event ${event.position} (${event.type})`, { cause });
      }
    });

  const settleWaiters = (): void => {
    for (const waiter of waiters) {
      if (failure) waiter.finish(failure);
      else if (waiter.position <= applied) waiter.finish();
    }
  };

  const handle = async (event: RecordedEvent): Promise<void> => {
    if (failure) return;
    let changes: readonly ProjectionChange[] = [];
    try {
      changes = changesFor(event);
      changes.forEach(applyChange);
      applied = event.position;
    } catch (error) {
      failure = error as Error;
      void subscription?.close(); // not awaited: a store may wait for this very handler
      options.onError?.(failure);
    }
    settleWaiters();
    if (failure || changes.length === 0) return;
    try {
      options.onApplied?.(changes);
    } catch {
      // A listener's failure is its own: projecting carries on (composition/delivery-due.ts logs what its subscribers throw).
    }
  };

  const waitFor = (position: number, timeout = timeoutMs): Promise<void> => {
    if (failure) return Promise.reject(failure);
    if (applied >= position) return Promise.resolve();
    return addWaiter(waiters, position, timeout, () => applied);
  };

  let starting: Promise<void> | undefined;
  const begin = async (): Promise<void> => {
    const head = await store.headPosition();
    subscription = store.subscribe(applied, handle);
    // Catch-up may take long on a big log; only live waits are bounded.
    await waitFor(head, Infinity);
  };

  return {
    get: async (name, id) => structuredClone(collections.get(name)?.get(id)),
    findBy: async (name, field, value, options = {}) => {
      checkFindOptions(options);
      const docs = collections.get(name);
      if (!docs) return [];
      const entries =
        field === INDEXED
          ? [...(owners.get(name)?.get(value) ?? [])].map((id) => [id, docs.get(id)!] as const)
          : [...docs].filter(([, doc]) => String(doc[field]) === value);
      // Copies of only what is returned: the caller cannot change the store's documents.
      return narrow(entries, options).map((doc) => structuredClone(doc));
    },
    waitFor: (position) => waitFor(position),
    position: async () => applied,
    start: () => (starting ??= begin()),
    stop: async () => {
      const current = subscription;
      subscription = undefined;
      starting = undefined;
      await current?.close();
      waiters.forEach((waiter) => waiter.finish(new Error('Read models stopped')));
    },
  };
};
