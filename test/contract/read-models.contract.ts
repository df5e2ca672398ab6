import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { EventStore, NewEvent } from '../../src/application/ports.js';
import type { Document, Projection, ProjectionChange, ReadModels } from '../../src/application/read-models.js';
import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';

export type RunnableReadModels = ReadModels & { readonly start: () => Promise<void>; readonly stop: () => Promise<void> };
export type ReadModelsFactory = (
  store: EventStore,
  projections: readonly Projection[],
  options: { readonly waitTimeoutMs: number; readonly onApplied?: (changes: readonly ProjectionChange[]) => void },
) => Promise<{ subject: RunnableReadModels; cleanup: () => Promise<void> }>;

/** Widgets live in streams `widget-<id>`; a second projection keeps a per-widget event count. */
export const widgetProjections: readonly Projection[] = [
  {
    name: 'widgets',
    collections: ['widgets'],
    apply: (event) => {
      const id = event.stream.replace(/^widget-/, '');
      const data = event.data as Record<string, unknown>;
      if (event.type === 'WidgetCreated') return [{ op: 'put', collection: 'widgets', id, doc: { id, ...data } }];
      if (event.type === 'WidgetChanged') return [{ op: 'merge', collection: 'widgets', id, patch: data }];
      if (event.type === 'WidgetDeleted') return [{ op: 'delete', collection: 'widgets', id }];
      return [];
    },
  },
  {
    name: 'widget-stats',
    collections: ['stats'],
    apply: (event) => [{ op: 'put', collection: 'stats', id: event.stream, doc: { events: event.revision + 1, last: event.type } }],
  },
];

const created = (data: Record<string, unknown>): NewEvent => ({ type: 'WidgetCreated', data });
const changed = (data: Record<string, unknown>): NewEvent => ({ type: 'WidgetChanged', data });
const deleted: NewEvent = { type: 'WidgetDeleted', data: {} };

export const readModelsContract = (name: string, make: ReadModelsFactory): void =>
  describe(`ReadModels contract: ${name}`, () => {
    let store: EventStore;
    const cleanups: Array<() => Promise<void>> = [];
    /**
     * Waits are long by default: a slow machine must not make an ordinary write's projection
     * time out. Only the test that a wait does time out opens an instance with a short one.
     */
    const open = async (waitTimeoutMs = 10_000): Promise<RunnableReadModels> => {
      const { subject, cleanup } = await make(store, widgetProjections, { waitTimeoutMs });
      cleanups.push(cleanup);
      return subject;
    };
    /** Appends and waits until `models` has applied it. */
    const write = async (models: ReadModels, stream: string, events: NewEvent[]) => {
      const { position } = await store.append(stream, events, 'any');
      await models.waitFor(position);
      return position;
    };

    beforeEach(() => {
      store = createInMemoryEventStore();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await store.close();
    });

    it('puts, merges and deletes documents', async () => {
      const models = await open();
      await models.start();
      await write(models, 'widget-1', [created({ name: 'gear', color: 'red', size: 3 })]);
      expect(await models.get('widgets', '1')).toEqual({ id: '1', name: 'gear', color: 'red', size: 3 });
      await write(models, 'widget-1', [changed({ color: 'blue' })]);
      expect(await models.get('widgets', '1')).toEqual({ id: '1', name: 'gear', color: 'blue', size: 3 });
      expect(await models.get('stats', 'widget-1')).toEqual({ events: 2, last: 'WidgetChanged' });
      await write(models, 'widget-1', [deleted]);
      expect(await models.get('widgets', '1')).toBeUndefined();
      expect(await models.get('nothing', '1')).toBeUndefined();
    });

    it('ignores a merge into a missing document', async () => {
      const models = await open();
      await models.start();
      await write(models, 'widget-ghost', [changed({ color: 'green' })]);
      expect(await models.get('widgets', 'ghost')).toBeUndefined();
      expect(await models.findBy('widgets', 'color', 'green')).toEqual([]);
    });

    it('finds documents by a top-level field compared as a string', async () => {
      const models = await open();
      await models.start();
      await write(models, 'widget-1', [created({ name: 'gear', color: 'red', size: 3 })]);
      await write(models, 'widget-2', [created({ name: 'cog', color: 'red', size: 4 })]);
      await write(models, 'widget-3', [created({ name: 'nut', color: 'blue', size: 3 })]);
      const names = async (field: string, value: string) => (await models.findBy('widgets', field, value)).map((d) => d['name']).sort();
      expect(await names('color', 'red')).toEqual(['cog', 'gear']);
      expect(await names('size', '3')).toEqual(['gear', 'nut']);
      expect(await names('color', 'purple')).toEqual([]);
      expect(await models.findBy('missing-collection', 'color', 'red')).toEqual([]);
    });

    it('narrows found documents by ranges of numeric fields, orders them by one and limits them', async () => {
      const models = await open();
      await models.start();
      // first/last like a user's challenges: log positions; 5 has none (projected before they were
      // kept), 6 holds a string where a number belongs, 7 only a last (a merge into a legacy one).
      const widgets: Record<string, Record<string, unknown>> = {
        '1': { first: 10, last: 40 },
        '2': { first: 20, last: 20 },
        '3': { first: 30, last: 90 },
        '4': { first: 30, last: 50 },
        '5': {},
        '6': { first: '25', last: '60' },
        '7': { last: 70 },
        '8': { first: 80, last: 95 },
      };
      for (const [id, fields] of Object.entries(widgets)) await write(models, `widget-${id}`, [created({ owner_id: 'ann', color: 'red', ...fields })]);
      await write(models, 'widget-9', [created({ owner_id: 'bob', color: 'red', first: 35, last: 36 })]);
      const ids = async (options: Parameters<ReadModels['findBy']>[3], field = 'owner_id', value = 'ann') =>
        (await models.findBy('widgets', field, value, options)).map((d) => d['id']);

      expect(await ids({})).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
      // Bounds: above is exclusive, atMost inclusive; no number, no match.
      expect(await ids({ ranges: [{ field: 'first', above: 20, atMost: 30 }] })).toEqual(['3', '4']);
      expect(await ids({ ranges: [{ field: 'first' }] })).toEqual(['1', '2', '3', '4', '8']);
      // Across a cursor at 30: began at or before it and went on past it, or could have.
      const across = [{ field: 'first', atMost: 30, orMissing: true }, { field: 'last', above: 30, orMissing: true }];
      expect(await ids({ ranges: across })).toEqual(['1', '3', '4', '5', '6', '7']);
      // Began past it, earliest first, ties by id, at most two.
      expect(await ids({ ranges: [{ field: 'first', above: 20 }], orderBy: 'first', limit: 2 })).toEqual(['3', '4']);
      expect(await ids({ orderBy: 'first' })).toEqual(['1', '2', '3', '4', '8', '5', '6', '7']);
      expect(await ids({ orderBy: 'last', limit: 3 })).toEqual(['2', '1', '4']);
      expect(await ids({ limit: 0 })).toEqual([]);
      // On a field that is not indexed, and on another owner's documents, the same.
      expect(await ids({ ranges: [{ field: 'last', above: 60 }], orderBy: 'last' }, 'color', 'red')).toEqual(['7', '3', '8']);
      expect(await ids({ ranges: [{ field: 'first', above: 30 }] }, 'owner_id', 'bob')).toEqual(['9']);
      expect(await models.findBy('missing-collection', 'owner_id', 'ann', { limit: 1 })).toEqual([]);

      await expect(models.findBy('widgets', 'owner_id', 'ann', { limit: -1 })).rejects.toThrow(RangeError);
      await expect(models.findBy('widgets', 'owner_id', 'ann', { limit: 1.5 })).rejects.toThrow(RangeError);
      await expect(models.findBy('widgets', 'owner_id', 'ann', { ranges: [{ field: 'first', above: Number.NaN }] })).rejects.toThrow(RangeError);
    });

    // owner_id is the field stores index (an operator's apps, an end user's challenges).
    it('finds documents by owner_id as they are put, change owner, are replaced and deleted', async () => {
      const models = await open();
      await models.start();
      const owned = async (owner: string) => (await models.findBy('widgets', 'owner_id', owner)).map((d) => d['id']);
      await write(models, 'widget-1', [created({ owner_id: 'ann', name: 'gear' })]);
      await write(models, 'widget-2', [created({ owner_id: 'ann', name: 'cog' })]);
      await write(models, 'widget-3', [created({ owner_id: 'bob', name: 'nut' })]);
      expect(await owned('ann')).toEqual(['1', '2']);
      await write(models, 'widget-2', [changed({ owner_id: 'bob' })]);
      expect(await owned('ann')).toEqual(['1']);
      expect(await owned('bob')).toEqual(['2', '3']);
      await write(models, 'widget-3', [changed({ name: 'bolt' })]);
      expect((await models.findBy('widgets', 'owner_id', 'bob')).map((d) => d['name'])).toEqual(['cog', 'bolt']);
      await write(models, 'widget-1', [deleted]);
      expect(await owned('ann')).toEqual([]);
      await write(models, 'widget-1', [created({ owner_id: 'bob', name: 'again' })]);
      expect(await owned('bob')).toEqual(['1', '2', '3']);
      expect(await owned('nobody')).toEqual([]);
    });

    it('waits for a position: at once when applied, after an append, and times out otherwise', async () => {
      const models = await open();
      await models.start();
      await expect(models.waitFor(0)).resolves.toBeUndefined();
      const appended = store.append('widget-1', [created({ name: 'gear' })], 'no_stream');
      const { position } = await appended;
      await models.waitFor(position);
      expect(await models.get('widgets', '1')).toMatchObject({ name: 'gear' });
      expect(await models.position()).toBe(position);
      await expect(models.waitFor(position)).resolves.toBeUndefined();
      // A second instance over the same log, caught up by start, whose waits time out after 200 ms.
      const hasty = await open(200);
      await hasty.start();
      await expect(hasty.waitFor(position + 1)).rejects.toThrow(`did not reach position ${position + 1} within 200 ms`);
      const later = models.waitFor(position + 1);
      await store.append('widget-2', [created({ name: 'cog' })], 'no_stream');
      await expect(later).resolves.toBeUndefined();
    });

    it('catches up with the existing log before start resolves', async () => {
      await store.append('widget-1', [created({ name: 'gear', color: 'red' })], 'no_stream');
      await store.append('widget-2', [created({ name: 'cog' }), changed({ color: 'red' })], 'no_stream');
      await store.append('widget-1', [deleted], 0);
      const models = await open();
      await models.start();
      expect(await models.position()).toBe(await store.headPosition());
      expect(await models.get('widgets', '1')).toBeUndefined();
      expect(await models.findBy('widgets', 'color', 'red')).toEqual([{ id: '2', name: 'cog', color: 'red' }]);
    });

    it('rebuilds identical documents on a fresh instance from the same log', async () => {
      const live = await open();
      await live.start();
      await write(live, 'widget-1', [created({ name: 'gear', color: 'red', tags: ['a', 'b'] })]);
      await write(live, 'widget-2', [created({ name: 'cog', color: 'red' }), changed({ color: 'blue', size: 9 })]);
      await write(live, 'widget-3', [created({ name: 'nut' }), deleted]);
      await write(live, 'widget-1', [changed({ name: 'big gear', nested: { deep: [1, { x: 'y' }] } })]);
      const rebuilt = await open();
      await rebuilt.start();
      expect(await rebuilt.position()).toBe(await live.position());
      for (const id of ['1', '2', '3']) {
        expect(await rebuilt.get('widgets', id)).toEqual(await live.get('widgets', id));
        expect(await rebuilt.get('stats', `widget-${id}`)).toEqual(await live.get('stats', `widget-${id}`));
      }
      for (const color of ['red', 'blue']) expect(await rebuilt.findBy('widgets', 'color', color)).toEqual(await live.findBy('widgets', 'color', color));
    });

    it('hands out copies that callers cannot use to change the store', async () => {
      const models = await open();
      await models.start();
      await write(models, 'widget-1', [created({ name: 'gear', color: 'red', tags: ['a'] })]);
      const fetched = (await models.get('widgets', '1')) as Record<string, unknown>;
      fetched['name'] = 'hacked';
      (fetched['tags'] as string[]).push('b');
      const [found] = (await models.findBy('widgets', 'color', 'red')) as Array<Record<string, unknown>>;
      found!['color'] = 'black';
      (found!['tags'] as string[]).push('c');
      expect(await models.get('widgets', '1')).toEqual({ id: '1', name: 'gear', color: 'red', tags: ['a'] });
    });

    it('stops applying events after stop', async () => {
      const models = await open();
      await models.start();
      const position = await write(models, 'widget-1', [created({ name: 'gear' })]);
      await models.stop();
      await store.append('widget-2', [created({ name: 'cog' })], 'no_stream');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(await models.position()).toBe(position);
      expect(await models.get('widgets', '2')).toBeUndefined();
    });

    it('tells onApplied each applied change once, in log order, when it can already be read', async () => {
      const seen: ProjectionChange[] = [];
      const readable: Array<Promise<Document | undefined>> = [];
      let models: RunnableReadModels | undefined;
      const { subject, cleanup } = await make(store, widgetProjections, {
        waitTimeoutMs: 10_000,
        onApplied: (changes) => {
          seen.push(...changes);
          if (changes.some((change) => change.collection === 'widgets' && change.op === 'put')) readable.push(models!.get('widgets', '1'));
        },
      });
      cleanups.push(cleanup);
      models = subject;
      await models.start();
      await write(models, 'widget-1', [created({ name: 'gear' }), changed({ color: 'red' })]);
      // The delete only once the read the listener started has answered: on a slow machine that
      // read could otherwise run after the delete was applied, and find nothing.
      for (let waited = 0; readable.length < 1 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      const firstRead = await readable[0];
      await write(models, 'widget-1', [deleted]);
      for (let waited = 0; seen.length < 6 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(seen).toEqual([
        { op: 'put', collection: 'widgets', id: '1', doc: { id: '1', name: 'gear' } },
        { op: 'put', collection: 'stats', id: 'widget-1', doc: { events: 1, last: 'WidgetCreated' } },
        { op: 'merge', collection: 'widgets', id: '1', patch: { color: 'red' } },
        { op: 'put', collection: 'stats', id: 'widget-1', doc: { events: 2, last: 'WidgetChanged' } },
        { op: 'delete', collection: 'widgets', id: '1' },
        { op: 'put', collection: 'stats', id: 'widget-1', doc: { events: 3, last: 'WidgetDeleted' } },
      ]);
      expect(readable).toHaveLength(1);
      // Read when the listener was told: the put (and, when one page held both events, the merge) was visible.
      expect(firstRead).toMatchObject({ id: '1', name: 'gear' });
    });
  });
