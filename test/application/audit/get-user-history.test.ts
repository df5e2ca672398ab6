import { describe, expect, it } from '@jest/globals';
import { makeGetUserHistory } from '../../../src/application/audit/get-user-history.js';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import { challengeStream } from '../../../src/domain/challenge/events.js';
import { enrollmentIdFor, enrollmentStreamFor } from '../../../src/application/ids.js';
import type { EventStore, ReadStreamOptions } from '../../../src/application/ports.js';
import { userChallengesProjection } from '../../../src/application/projections/user-challenges.js';
import type { Projection, ReadModels } from '../../../src/application/read-models.js';
import { createKeyedHash } from '../../../src/infrastructure/crypto/keyed-hash.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';
import { createInMemoryEventStore } from '../../../src/infrastructure/event-store/in-memory-event-store.js';
import { createInMemoryReadModels } from '../../../src/infrastructure/read-models/in-memory-read-models.js';

const keyedHash = createKeyedHash(createKeyring([{ id: 'k', key: Buffer.alloc(32, 5) }]));
const app = { app_id: '11111111-1111-4111-8111-111111111111' } as ActiveApp;

/** Read models whose projections stand at different positions. */
const readModelsAt = (positions: Record<string, number>, lowest: number): ReadModels => ({
  get: async () => undefined,
  findBy: async () => [],
  waitFor: async () => undefined,
  position: async (projection) => (projection === undefined ? lowest : (positions[projection] ?? lowest)),
});

/** The store, recording every stream read: which stream, with what options, how many events came back. */
const recordingReads = (store: EventStore) => {
  const reads: { stream: string; options: ReadStreamOptions | undefined; returned: number }[] = [];
  const recording: EventStore = {
    ...store,
    readStream: async (stream, options) => {
      const events = await store.readStream(stream, options);
      reads.push({ stream, options, returned: events.length });
      return events;
    },
  };
  return { store: recording, reads };
};

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
    // An event that names its enrollment shows that id; the others, the id the stream is derived from.
    expect(rebuilding.events.map((e) => e.enrollment_id)).toEqual(['e-1', enrollmentIdFor(keyedHash, app.app_id, 'alice', 'TOTP')]);
    // Its own lag does: a page never goes past what it has projected.
    const behind = await makeGetUserHistory({ keyedHash, store, readModels: readModelsAt({ 'user-challenges': 1 }, 1) })(app, 'alice', page);
    expect(behind).toMatchObject({ events: [{ event: 'EnrollmentStarted', otp_method: 'TOTP', enrollment_id: 'e-1' }], next_after: null });
  });

  it("pages through a long factor stream reading only what each page needs, each event once and in log order", async () => {
    const store = createInMemoryEventStore();
    const totp = enrollmentStreamFor(keyedHash, app.app_id, 'bob', 'TOTP');
    const recovery = enrollmentStreamFor(keyedHash, app.app_id, 'bob', 'RECOVERY');
    const totpId = enrollmentIdFor(keyedHash, app.app_id, 'bob', 'TOTP');
    // As registration names them: each factor's events name the id its stream is derived from.
    const recoveryId = enrollmentIdFor(keyedHash, app.app_id, 'bob', 'RECOVERY');
    const at = '2026-11-30T06:00:00.000Z';
    await store.append(totp, [{ type: 'EnrollmentStarted', data: { enrollment_id: totpId, method: 'TOTP', at } }], 'no_stream');
    await store.append(totp, [{ type: 'EnrollmentActivated', data: { at } }], 0);
    await store.append(recovery, [{ type: 'RecoveryCodesIssued', data: { enrollment_id: recoveryId, code_hashes: ['h'], at } }], 'no_stream');
    // An active TOTP user: an event per verification, with a recovery code used along the way.
    for (let step = 1; step <= 40; step++) {
      await store.append(totp, [{ type: 'TotpStepConsumed', data: { step, at } }], step);
      if (step === 25) await store.append(recovery, [{ type: 'RecoveryCodeUsed', data: { at } }], 0);
    }
    const head = (await store.readAll(0, 1000)).length;
    const { store: counting, reads } = recordingReads(store);
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
    // Events that do not name their enrollment are credited to the id their stream is derived from, on every page.
    expect(new Set(seen.filter((e) => e.event !== 'RecoveryCodesIssued' && e.event !== 'RecoveryCodeUsed').map((e) => e.enrollment_id))).toEqual(new Set([totpId]));
    expect(seen.find((e) => e.event === 'RecoveryCodeUsed')?.enrollment_id).toBe(recoveryId);
    // No read of the 42-event stream took more than a page's worth.
    const totpReads = reads.filter((r) => r.stream === totp);
    expect(totpReads.length).toBeGreaterThan(0);
    expect(totpReads.filter((r) => r.options?.limit === undefined || r.options.limit > 6 || r.returned > 6)).toEqual([]);
  });

  it("reads, of a user's many challenges, only those a page can show, and still pages through all of them in log order", async () => {
    const store = createInMemoryEventStore();
    const at = '2026-11-30T06:00:00.000Z';
    const challenge = (n: number) => {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      return { id, stream: challengeStream(id) };
    };
    const issue = (n: number, username = 'carol') =>
      store.append(challenge(n).stream, [{ type: 'ChallengeIssued', data: { challenge_id: challenge(n).id, app_id: app.app_id, username, channel: 'SMS', at } }], 'no_stream');
    const next = async (n: number, type: string) => {
      const [last] = (await store.readStream(challenge(n).stream)).slice(-1);
      await store.append(challenge(n).stream, [{ type, data: { at } }], last!.revision);
    };
    // Twenty codes sent to carol (issued, attempted, delivered, approved), each one still open
    // when the next is issued; one to dave in between, which her history never shows.
    for (let n = 1; n <= 20; n++) {
      await issue(n);
      if (n > 1) await next(n - 1, 'ChallengeApproved');
      await next(n, 'DeliveryAttempted');
      if (n === 7) await issue(100, 'dave');
      await next(n, 'DeliverySucceeded');
    }
    await next(20, 'ChallengeApproved');
    // Then eight codes issued and nothing more (say, sends refused by the provider before any
    // attempt): a page of those has only their issue events to show.
    for (let n = 21; n <= 28; n++) await issue(n);
    // Challenge 3's document projected as before positions were kept (its later events then merge
    // a last position into it): the read models must hand it out on every page it could be in.
    const legacyId = challenge(3).id;
    const projection: Projection = {
      ...userChallengesProjection,
      apply: (event) =>
        userChallengesProjection.apply(event).flatMap((change) => {
          if (change.id !== legacyId) return [change];
          if (change.op !== 'put') return [];
          const { first_position: _first, last_position: _last, ...doc } = change.doc;
          return [{ ...change, doc }];
        }),
    };
    const readModels = createInMemoryReadModels(store, [projection]);
    await readModels.start();
    expect(await readModels.get('user_challenges', legacyId)).toEqual({ owner_id: `${app.app_id}/carol`, challenge_id: legacyId });
    // What the read models hand out per page.
    const docsPerPage: number[] = [];
    const withLegacy: ReadModels = {
      ...readModels,
      findBy: async (...args) => {
        const docs = await readModels.findBy(...args);
        docsPerPage[docsPerPage.length - 1]! += docs.length;
        return docs;
      },
    };
    const { store: counting, reads } = recordingReads(store);
    const history = makeGetUserHistory({ keyedHash, store: counting, readModels: withLegacy });

    const seen: number[] = [];
    const readsPerPage: number[] = [];
    let after = 0;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(40);
      reads.length = 0;
      docsPerPage.push(0);
      const page = await history(app, 'carol', { after, limit: 3 });
      readsPerPage.push(reads.filter((r) => r.stream.startsWith('challenge-')).length);
      seen.push(...page.events.map((e) => e.position));
      if (page.next_after === null) break;
      after = page.next_after;
    }
    const carols = (await store.readAll(0, 1000)).filter((e) => e.stream !== challenge(100).stream).map((e) => e.position);
    expect(seen).toEqual(carols);
    // At most the two open across the cursor, the page's limit + 1 issued after it, and the legacy one.
    expect(Math.max(...readsPerPage)).toBeLessThanOrEqual(2 + 4 + 1);
    // And of carol's 28 challenges' documents, no page was handed more than those.
    expect(Math.max(...docsPerPage)).toBeLessThanOrEqual(2 + 4 + 1);
    expect(Math.min(...docsPerPage)).toBeGreaterThanOrEqual(1); // the legacy one, on every page
    await readModels.stop();
  });
});
