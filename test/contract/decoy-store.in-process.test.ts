import { describe, expect, it } from '@jest/globals';
import type { DecoyStore } from '../../src/application/ports.js';
import { createInProcessDecoyStore } from '../../src/infrastructure/abuse/in-process-decoy-store.js';
import { decoyStoreContract } from './decoy-store.contract.js';

decoyStoreContract('in-process', async (capacity) => ({ subject: createInProcessDecoyStore({ capacity }), cleanup: async () => undefined }));

describe('in-process decoy store memory', () => {
  const fail = async (store: DecoyStore, appId: string, id: string) =>
    (await store.write(appId, id, await store.read(appId, id), { failures: 1, locked_until: null, recent_failures: [] }, 'w')).written;

  it('holds at most maxNames in all, taking them from the app least recently written to', async () => {
    const store = createInProcessDecoyStore({ capacity: 10, maxNames: 5 });
    for (const id of ['a', 'b', 'c']) await fail(store, 'quiet', id);
    for (let i = 0; i < 3; i++) await fail(store, 'busy', `made-up-${i}`);
    expect(store.size()).toBe(5);
    // The sixth name came from `busy`, but `quiet` was written to least recently: its oldest goes.
    expect((await store.read('quiet', 'a')).counts).toBeNull();
    expect((await store.read('quiet', 'b')).counts).not.toBeNull();
    for (let i = 3; i < 50; i++) await fail(store, 'busy', `made-up-${i}`);
    expect(store.size()).toBe(5);
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
