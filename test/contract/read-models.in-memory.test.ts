import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Projection } from '../../src/application/read-models.js';
import { createInMemoryEventStore } from '../../src/infrastructure/event-store/in-memory-event-store.js';
import { createSqliteEventStore } from '../../src/infrastructure/event-store/sqlite-event-store.js';
import { createInMemoryReadModels } from '../../src/infrastructure/read-models/in-memory-read-models.js';
import { readModelsContract, widgetProjections } from './read-models.contract.js';

readModelsContract('in memory', async (store, projections, options) => {
  const subject = createInMemoryReadModels(store, projections, options);
  return { subject, cleanup: subject.stop };
});

it('rebuilds from a reopened SQLite log before start resolves', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'otp-read-models-'));
  const filename = join(dir, 'events.db');
  try {
    const before = createSqliteEventStore({ filename });
    await before.append('widget-1', [{ type: 'WidgetCreated', data: { name: 'gear', color: 'red' } }], 'no_stream');
    await before.append('widget-1', [{ type: 'WidgetChanged', data: { color: 'blue' } }], 0);
    await before.close();
    const after = createSqliteEventStore({ filename });
    const models = createInMemoryReadModels(after, widgetProjections);
    await models.start();
    expect(await models.get('widgets', '1')).toEqual({ id: '1', name: 'gear', color: 'blue' });
    expect(await models.position()).toBe(2);
    await models.stop();
    await after.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('in-memory read models with a failing projection', () => {
  const poisoned: Projection = {
    name: 'poisoned',
    collections: [],
    apply: (event) => {
      if (event.type === 'Poison') throw new Error('cannot project');
      return [];
    },
  };

  it('keeps documents as before the failing event and rejects waits with the error', async () => {
    const store = createInMemoryEventStore();
    const errors: Error[] = [];
    const models = createInMemoryReadModels(store, [...widgetProjections, poisoned], { onError: (error) => errors.push(error) });
    await models.start();
    const first = await store.append('widget-1', [{ type: 'WidgetCreated', data: { name: 'gear' } }], 'no_stream');
    await models.waitFor(first.position);
    const poison = await store.append('widget-1', [{ type: 'WidgetChanged', data: { name: 'changed' } }, { type: 'Poison', data: {} }], 0);
    await expect(models.waitFor(poison.position)).rejects.toThrow('Projection poisoned failed on event 3 (Poison)');
    expect(await models.position()).toBe(2);
    expect(await models.get('widgets', '1')).toEqual({ id: '1', name: 'changed' });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.cause).toEqual(new Error('cannot project'));
    await store.append('widget-2', [{ type: 'WidgetCreated', data: { name: 'cog' } }], 'no_stream');
    await expect(models.waitFor(1)).rejects.toThrow('Projection poisoned');
    await expect(models.waitFor(0)).rejects.toThrow('Projection poisoned'); // what the embedded health check asks
    expect(await models.get('widgets', '2')).toBeUndefined();
    await models.stop();
  });

  it('rejects start when the existing log cannot be projected', async () => {
    const store = createInMemoryEventStore();
    await store.append('widget-1', [{ type: 'Poison', data: {} }], 'no_stream');
    const models = createInMemoryReadModels(store, [poisoned]);
    await expect(models.start()).rejects.toThrow('Projection poisoned failed on event 1');
    await models.stop();
  });
});

it('keeps projecting when an onApplied listener throws', async () => {
  const store = createInMemoryEventStore();
  let calls = 0;
  const models = createInMemoryReadModels(store, widgetProjections, {
    onApplied: () => {
      calls += 1;
      throw new Error('listener exploded');
    },
  });
  await models.start();
  await store.append('widget-1', [{ type: 'WidgetCreated', data: { name: 'gear' } }], 'no_stream');
  const second = await store.append('widget-2', [{ type: 'WidgetCreated', data: { name: 'cog' } }], 'no_stream');
  await models.waitFor(second.position);
  expect(calls).toBe(2);
  expect(await models.get('widgets', '2')).toEqual({ id: '2', name: 'cog' });
  await models.stop();
});
