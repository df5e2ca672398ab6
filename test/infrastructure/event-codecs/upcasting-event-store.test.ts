import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../../src/application/ports.js';
import { CorruptEvent } from '../../../src/infrastructure/event-codecs/corrupt-event.js';
import { makeUpcasterRegistry } from '../../../src/infrastructure/event-codecs/upcasters.js';
import { withEventValidation } from '../../../src/infrastructure/event-codecs/validating-event-store.js';
import { createInMemoryEventStore } from '../../../src/infrastructure/event-store/in-memory-event-store.js';

const at = '2025-03-03T10:00:00.000Z';

// Test-only history: pretend schema version 1 named AppRenamed's field `title`, and version 2 renamed it.
const upcasters = makeUpcasterRegistry([
  {
    type: 'AppRenamed',
    from: 1,
    upcast: (data) => {
      const { title, ...rest } = data as { title: unknown };
      if (title === undefined) throw new Error(`no title in ${JSON.stringify(data)}`);
      return { ...rest, name: title };
    },
  },
]);

const setup = () => {
  const raw = createInMemoryEventStore();
  return { raw, store: withEventValidation(raw, { upcasters, currentVersion: 2 }) };
};

describe('withEventValidation upcasting', () => {
  it('brings old events up to the current version on every read path', async () => {
    const { raw, store } = setup();
    await raw.append(
      'app-1',
      [
        { type: 'AppRenamed', data: { title: 'Written at v1', at }, metadata: { schema_version: 1 } },
        { type: 'AppRenamed', data: { title: 'No version means v1', at } },
        { type: 'AppRenamed', data: { name: 'Written at v2', at }, metadata: { schema_version: 2 } },
        { type: 'AppClosed', data: { at }, metadata: { schema_version: 1 } },
      ],
      'no_stream',
    );
    const expected = [
      { name: 'Written at v1', at },
      { name: 'No version means v1', at },
      { name: 'Written at v2', at },
      { at },
    ];
    expect((await store.readStream('app-1')).map((e) => e.data)).toEqual(expected);
    expect((await store.readAll(0, 10)).map((e) => e.data)).toEqual(expected);

    const seen: RecordedEvent[] = [];
    const subscription = store.subscribe(0, async (event) => void seen.push(event));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await subscription.close();
    expect(seen.map((e) => e.data)).toEqual(expected);
    // The record keeps the version it was written with.
    expect(seen[0]?.metadata.schema_version).toBe(1);
  });

  it('stamps appended events with the current version and refuses older ones', async () => {
    const { raw, store } = setup();
    await store.append('app-1', [{ type: 'AppRenamed', data: { name: 'Now', at } }], 'no_stream');
    expect((await raw.readStream('app-1'))[0]?.metadata.schema_version).toBe(2);
    await expect(store.append('app-1', [{ type: 'AppRenamed', data: { title: 'Old', at }, metadata: { schema_version: 1 } }], 0)).rejects.toMatchObject({
      reason: 'unsupported-version',
    });
    expect(await raw.headPosition()).toBe(1);
  });

  it('reports an old event its upcaster cannot read as corrupt, without the upcaster message', async () => {
    const { raw, store } = setup();
    await raw.append('app-1', [{ type: 'AppRenamed', data: { label: 'pin 5521', at }, metadata: { schema_version: 1 } }], 'no_stream');
    const error = await store.readStream('app-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptEvent);
    expect(error).toMatchObject({ reason: 'invalid-data', issues: [{ path: 'data', expected: 'AppRenamed of schema version 1' }] });
    expect((error as Error).message).not.toContain('5521');
  });

  it('checks the upcast result against the current codec', async () => {
    const { raw, store } = setup();
    await raw.append('app-1', [{ type: 'AppRenamed', data: { title: 42, at }, metadata: { schema_version: 1 } }], 'no_stream');
    await expect(store.readStream('app-1')).rejects.toMatchObject({ reason: 'invalid-data', paths: ['data.name'] });
  });
});
