import { afterEach, describe, expect, it } from '@jest/globals';
import type { DecoyStore } from '../../../src/application/ports.js';
import { createInProcessDecoyStore } from '../../../src/infrastructure/abuse/in-process-decoy-store.js';
import { measuredDecoyStore } from '../../../src/infrastructure/telemetry/decoy-metrics.js';
import { installTestMetrics } from '../../support/metrics.js';

describe('otp_verify.decoy.forgotten', () => {
  let telemetry: ReturnType<typeof installTestMetrics> | undefined;
  afterEach(() => telemetry?.uninstall());

  const fail = async (store: DecoyStore, appId: string, id: string) =>
    store.write(appId, id, await store.read(appId, id), { failures: 1, locked_until: null, recent_failures: [] }, 'w');
  const forgotten = async () =>
    (await telemetry!.points()).filter((point) => point.name === 'otp_verify.decoy.forgotten').map(({ attributes, value }) => [attributes, value]);

  it('counts the names a write pushed out, by store, and nothing else', async () => {
    telemetry = installTestMetrics();
    const store = measuredDecoyStore(createInProcessDecoyStore({ capacity: 2 }), 'process');
    for (const id of ['a', 'b', 'a']) await fail(store, 'app-1', id);
    expect(await forgotten()).toEqual([]);
    for (const id of ['c', 'd', 'e']) await fail(store, 'app-1', id);
    await fail(store, 'app-2', 'a');
    expect(await forgotten()).toEqual([[{ store: 'process' }, 3]]);
    // What it measures answers as the store does.
    expect((await store.read('app-1', 'e')).counts?.failures).toBe(1);
    expect((await store.read('app-1', 'a')).counts).toBeNull();
  });
});
