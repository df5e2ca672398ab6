import { describe, expect, it } from '@jest/globals';
import { makeGetUserHistory } from '../../../src/application/audit/get-user-history.js';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { enrollmentStreamFor } from '../../../src/application/ids.js';
import type { ReadModels } from '../../../src/application/read-models.js';
import { createKeyedHash } from '../../../src/infrastructure/crypto/keyed-hash.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';
import { createInMemoryEventStore } from '../../../src/infrastructure/event-store/in-memory-event-store.js';

const keyedHash = createKeyedHash(createKeyring([{ id: 'k', key: Buffer.alloc(32, 5) }]));
const app = { app_id: '11111111-1111-4111-8111-111111111111' } as ActiveApp;

/** Read models whose projections stand at different positions. */
const readModelsAt = (positions: Record<string, number>, lowest: number): ReadModels => ({
  get: async () => undefined,
  findBy: async () => [],
  waitFor: async () => undefined,
  position: async (projection) => (projection === undefined ? lowest : (positions[projection] ?? lowest)),
});

describe("an end user's history", () => {
  it("stops at the user-challenges projection's own position, whatever another projection's", async () => {
    const store = createInMemoryEventStore();
    const stream = enrollmentStreamFor(keyedHash, app.app_id, 'alice', 'TOTP');
    await store.append(stream, [{ type: 'EnrollmentStarted', data: { enrollment_id: 'e-1', method: 'TOTP', at: '2026-11-30T06:00:00.000Z' } }], 'no_stream');
    await store.append(stream, [{ type: 'EnrollmentActivated', data: { at: '2026-11-30T06:00:01.000Z' } }], 0);
    const page = { after: 0, limit: 10 };

    // Another projection rebuilding (at 0) does not hide the history.
    const rebuilding = await makeGetUserHistory({ keyedHash, store, readModels: readModelsAt({ 'user-challenges': 2 }, 0) })(app, 'alice', page);
    expect(rebuilding.events.map((e) => e.event)).toEqual(['EnrollmentStarted', 'EnrollmentActivated']);
    // Its own lag does: a page never goes past what it has projected.
    const behind = await makeGetUserHistory({ keyedHash, store, readModels: readModelsAt({ 'user-challenges': 1 }, 1) })(app, 'alice', page);
    expect(behind).toMatchObject({ events: [{ event: 'EnrollmentStarted', otp_method: 'TOTP', enrollment_id: 'e-1' }], next_after: null });
  });
});
