/**
 * The expiry sweep and exported codes under volume: the sweep takes live challenges a batch at a
 * time, soonest expiry first, and only those already expired (not every live challenge in one
 * copy); generated codes are capped per app and day by the policy's max_sends_per_app_per_day.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { SWEEP_BATCH } from '../../../src/application/challenges/expire-challenges.js';
import type { Handlers } from '../../../src/application/handlers.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

describe('expiry sweep and exported codes under volume', () => {
  let server: TestServer;
  let handlers: Handlers;

  const appWith = async (policy: object): Promise<ActiveApp> => {
    const created = await handlers.createApp({ owner_id: 'owner-1', name: 'Acme', policy } as never);
    if (created._tag === 'Left') throw new Error(created.left.message);
    const active = await handlers.authenticateApiKey(created.right.api_key);
    if (!active) throw new Error('the new API key does not authenticate');
    return active;
  };
  const liveCount = async () => (await server.service.deps.readModels.findBy('live_challenges', 'live', 'yes')).length;

  beforeAll(async () => {
    // No delivery worker: its polls and its own sweep would call the findBy counted below.
    server = await startTestServer({ inMemory: true, worker: false });
    handlers = server.service.handlers;
  });
  afterAll(() => server.close());

  it('closes every expired challenge across several batches, and none that is still live', async () => {
    const app = await appWith({ allow_code_export: true, code_ttl_seconds: 60 });
    const expiring = SWEEP_BATCH * 2 + 37;
    for (let i = 0; i < expiring; i++) expect((await handlers.generateCode(app, `early${i}`))._tag).toBe('Right');
    server.clock.advance(30_000);
    for (let i = 0; i < 10; i++) expect((await handlers.generateCode(app, `late${i}`))._tag).toBe('Right');
    await server.service.deps.readModels.waitFor(await server.service.deps.store.headPosition());
    expect(await liveCount()).toBe(expiring + 10);
    server.clock.advance(31_000);
    // What each query hands over to the process.
    const readModels = server.service.deps.readModels as { findBy: typeof server.service.deps.readModels.findBy };
    const findBy = readModels.findBy;
    const handedOver: number[] = [];
    readModels.findBy = async (...args) => {
      const found = await findBy(...args);
      handedOver.push(found.length);
      return found;
    };
    try {
      expect(await handlers.expireChallenges()).toBe(expiring);
    } finally {
      readModels.findBy = findBy;
    }
    expect(handedOver).toEqual([SWEEP_BATCH, SWEEP_BATCH, 37]);
    await server.service.deps.readModels.waitFor(await server.service.deps.store.headPosition());
    expect(await liveCount()).toBe(10);
    expect(await handlers.expireChallenges()).toBe(0);
  }, 60_000);

  it("caps generated codes at the policy's daily figure per app, with Retry-After", async () => {
    const app = await appWith({ allow_code_export: true, max_sends_per_app_per_day: 3 });
    for (let i = 0; i < 3; i++) expect((await handlers.generateCode(app, `user${i}`))._tag).toBe('Right');
    const refused = await handlers.generateCode(app, 'user3');
    expect(refused).toMatchObject({ _tag: 'Left', left: { code: 'RATE_LIMITED' } });
    if (refused._tag === 'Left') expect(refused.left.retryAfterSeconds).toBeGreaterThan(80_000);
    // Another app's budget is its own.
    const other = await appWith({ allow_code_export: true, max_sends_per_app_per_day: 3 });
    expect((await handlers.generateCode(other, 'user0'))._tag).toBe('Right');
  });
});
