import { describe, expect, it } from '@jest/globals';
import { makeGetUserHistory } from '../../../src/application/audit/get-user-history.js';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { enrollmentIdFor, enrollmentStreamFor } from '../../../src/application/ids.js';
import type { EventStore, ReadStreamOptions } from '../../../src/application/ports.js';
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

  it("pages through a long factor stream reading only what each page needs, each event once and in log order", async () => {
    const store = createInMemoryEventStore();
    const totp = enrollmentStreamFor(keyedHash, app.app_id, 'bob', 'TOTP');
    const recovery = enrollmentStreamFor(keyedHash, app.app_id, 'bob', 'RECOVERY');
    const totpId = enrollmentIdFor(keyedHash, app.app_id, 'bob', 'TOTP');
    const at = '2026-11-30T06:00:00.000Z';
    await store.append(totp, [{ type: 'EnrollmentStarted', data: { enrollment_id: totpId, method: 'TOTP', at } }], 'no_stream');
    await store.append(totp, [{ type: 'EnrollmentActivated', data: { at } }], 0);
    await store.append(recovery, [{ type: 'RecoveryCodesIssued', data: { enrollment_id: 'r-1', code_hashes: ['h'], at } }], 'no_stream');
    // An active TOTP user: an event per verification, with a recovery code used along the way.
    for (let step = 1; step <= 40; step++) {
      await store.append(totp, [{ type: 'TotpStepConsumed', data: { step, at } }], step);
      if (step === 25) await store.append(recovery, [{ type: 'RecoveryCodeUsed', data: { at } }], 0);
    }
    const head = (await store.readAll(0, 1000)).length;
    const reads: { stream: string; options: ReadStreamOptions | undefined; returned: number }[] = [];
    const counting: EventStore = {
      ...store,
      readStream: async (stream, options) => {
        const events = await store.readStream(stream, options);
        reads.push({ stream, options, returned: events.length });
        return events;
      },
    };
    const history = makeGetUserHistory({ keyedHash, store: counting, readModels: readModelsAt({}, head) });

    const seen: { position: number; event: string; enrollment_id?: string }[] = [];
    let after = 0;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(20);
      const page = await history(app, 'bob', { after, limit: 5 });
      seen.push(...page.events.map((e) => ({ position: e.position, event: e.event, enrollment_id: e.enrollment_id })));
      if (page.next_after === null) break;
      after = page.next_after;
    }
    expect(seen.map((e) => e.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(seen.filter((e) => e.event === 'TotpStepConsumed')).toHaveLength(40);
    // Events between the ones that name their enrollment are credited to it, on every page.
    expect(new Set(seen.filter((e) => e.event !== 'RecoveryCodesIssued' && e.event !== 'RecoveryCodeUsed').map((e) => e.enrollment_id))).toEqual(new Set([totpId]));
    expect(seen.find((e) => e.event === 'RecoveryCodeUsed')?.enrollment_id).toBe('r-1');
    // No read of the 42-event stream took more than a page's worth.
    const totpReads = reads.filter((r) => r.stream === totp);
    expect(totpReads.length).toBeGreaterThan(0);
    expect(totpReads.filter((r) => r.options?.limit === undefined || r.options.limit > 6 || r.returned > 6)).toEqual([]);
  });
});
