import { describe, expect, it } from '@jest/globals';
import type { DecoyStore } from '../../src/application/ports.js';
import { createInProcessDecoyStore } from '../../src/infrastructure/abuse/in-process-decoy-store.js';
import { decoyStoreContract } from './decoy-store.contract.js';

decoyStoreContract('in-process', async (capacity) => ({ subject: createInProcessDecoyStore({ capacity }), cleanup: async () => undefined }));

describe('in-process decoy store memory', () => {
  const fail = async (store: DecoyStore, appId: string, id: string) =>
    (await store.write(appId, id, await store.read(appId, id), { failures: 1, locked_until: null, recent_failures: [] }, 'w')).written;

  it('holds at most maxNames in all, taking them from the app that holds the most: a busy app gives up its own first', async () => {
    const store = createInProcessDecoyStore({ capacity: 10, maxNames: 6 });
    for (const id of ['a', 'b']) await fail(store, 'quiet', id);
    for (let i = 0; i < 50; i++) await fail(store, 'busy', `made-up-${i}`);
    expect(store.size()).toBe(6);
    // The quiet app, written to least recently, keeps its names; the busy one its newest four.
    for (const id of ['a', 'b']) expect((await store.read('quiet', id)).counts).not.toBeNull();
    expect((await store.read('busy', 'made-up-45')).counts).toBeNull();
    expect((await store.read('busy', 'made-up-46')).counts).not.toBeNull();
    // A third app's names come out of the busy one too.
    for (const id of ['x', 'y']) await fail(store, 'third', id);
    for (const [app, id] of [['quiet', 'a'], ['quiet', 'b'], ['third', 'x'], ['third', 'y'], ['busy', 'made-up-49']]) expect([app, id, (await store.read(app!, id!)).counts]).not.toEqual([app, id, null]);
    expect(store.size()).toBe(6);
  });

  it('never forgets the name it has just written, even with as many apps as names', async () => {
    const store = createInProcessDecoyStore({ capacity: 10, maxNames: 3 });
    for (let i = 0; i < 10; i++) {
      expect(await fail(store, `app-${i}`, 'ghost')).toBe(true);
      expect((await store.read(`app-${i}`, 'ghost')).counts).not.toBeNull();
    }
    expect(store.size()).toBe(3);
  });

  it('counts a name written again once', async () => {
    const store = createInProcessDecoyStore({ capacity: 3 });
    for (let i = 0; i < 5; i++) expect(await fail(store, 'app', 'same')).toBe(true);
    expect(store.size()).toBe(1);
  });

  it('refuses a capacity below one', () => {
    expect(() => createInProcessDecoyStore({ capacity: 0 })).toThrow(RangeError);
  });
});
