/**
 * Secrets are compared in constant time: the handlers that check a sent code, an API key and a
 * recovery code decide through the injected safeEqual (here a recording one around the real
 * comparison), never with ===, and a recovery code is compared with every stored hash, so the
 * time taken does not tell which of them (if any) matched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeAuthenticateApiKey } from '../../src/application/apps/authenticate-api-key.js';
import type { ActiveApp } from '../../src/application/apps/app-view.js';
import { makeVerifyChallenge } from '../../src/application/challenges/verify-challenge.js';
import { makeVerifyFactor } from '../../src/application/challenges/verify-factor.js';
import type { Deps } from '../../src/application/deps.js';
import type { SafeEqual } from '../../src/application/ports.js';
import { challengeStream, type ChallengeIssued } from '../../src/domain/challenge/index.js';
import { clientAppStream, type ApiKeyIssued } from '../../src/domain/client-app/index.js';
import { enrollmentStream, type RecoveryCodesIssued } from '../../src/domain/enrollment/index.js';
import { enrollmentIdFor } from '../../src/application/ids.js';
import { makeEnableEnrollment } from '../../src/application/enrollments/enable-enrollment.js';
import { createSealSigner } from '../../src/infrastructure/audit/seal-signer.js';
import { createKeyedHash, safeEqual as realSafeEqual } from '../../src/infrastructure/crypto/keyed-hash.js';
import { createKeyring } from '../../src/infrastructure/crypto/keyring.js';
import { createInMemorySnapshotStore } from '../../src/infrastructure/snapshots/in-memory-snapshot-store.js';
import { sealSnapshots } from '../../src/infrastructure/snapshots/sealed.js';
import { codeFromOutbox, totpAt, wrongCode } from '../support/flows.js';
import { startWithOwnedApp, type TestServer } from '../support/test-server.js';

/** The real comparison, recording every pair it is asked about. */
const recording = (real: SafeEqual) => {
  const calls: [string, string][] = [];
  const safeEqual: SafeEqual = (a, b) => {
    calls.push([a, b]);
    return real(a, b);
  };
  return { safeEqual, calls };
};
/** A comparison that never matches: what the handler decides must follow it. */
const neverEqual: SafeEqual = () => false;

describe('secret comparisons go through safeEqual', () => {
  let server: TestServer;
  let deps: Deps;
  let app: ActiveApp;
  let apiKey: string;

  beforeAll(async () => {
    ({ server, deps, app, apiKey } = await startWithOwnedApp({ allow_code_export: true }));
  });
  afterAll(() => server.close());

  it('sent-code verification compares the keyed hash of the given code with the stored one', async () => {
    const generated = await server.service.handlers.generateCode(app, 'alice');
    if (generated._tag === 'Left') throw new Error(generated.left.message);
    const { challenge_id, code } = generated.right;
    const [issued] = await deps.store.readStream(challengeStream(challenge_id));
    const stored = (issued!.data as ChallengeIssued['data']).code_hash;

    // The right code, refused when safeEqual says no: the decision is safeEqual's.
    const refused = await makeVerifyChallenge({ ...deps, safeEqual: neverEqual }, 'VERIFICATION')({ app_id: app.app_id, challenge_id, otp: code });
    expect(refused).toEqual({ _tag: 'Left', left: expect.objectContaining({ code: 'INVALID_CODE' }) });

    const wrong = recording(deps.safeEqual);
    const other = wrongCode(code);
    expect((await makeVerifyChallenge({ ...deps, safeEqual: wrong.safeEqual }, 'VERIFICATION')({ app_id: app.app_id, challenge_id, otp: other }))._tag).toBe('Left');
    expect(wrong.calls).toEqual([[deps.keyedHash('code', `${challenge_id}:${other}`), stored]]);

    const right = recording(deps.safeEqual);
    const approved = await makeVerifyChallenge({ ...deps, safeEqual: right.safeEqual }, 'VERIFICATION')({ app_id: app.app_id, challenge_id, otp: code });
    expect(approved).toEqual({ _tag: 'Right', right: expect.objectContaining({ status: 'APPROVED' }) });
    expect(right.calls).toEqual([[stored, stored]]);
  });

  it('API-key authentication compares the stored key hash with the keyed hash of the given key', async () => {
    const events = await deps.store.readStream(clientAppStream(app.app_id));
    const stored = events.filter((e) => e.type === 'ApiKeyIssued' || e.type === 'AppRegistered').map((e) => (e.data as Partial<ApiKeyIssued['data']>).key_hash);
    const keyHash = deps.keyedHash('api-key', apiKey);
    expect(stored).toContain(keyHash);

    expect(await makeAuthenticateApiKey({ ...deps, safeEqual: neverEqual })(apiKey)).toBeNull();
    const spy = recording(deps.safeEqual);
    expect(await makeAuthenticateApiKey({ ...deps, safeEqual: spy.safeEqual })(apiKey)).toMatchObject({ app_id: app.app_id });
    expect(spy.calls.length).toBeGreaterThanOrEqual(1);
    for (const call of spy.calls) expect(call).toEqual([keyHash, keyHash]);
  });

  it('a recovery code is compared with every stored hash, even when the first one matches', async () => {
    const { handlers } = server.service;
    const registered = await handlers.registerEnrollment({ app, username: 'rita', otp_method: 'TOTP', client_ip: '10.0.0.1' });
    if (registered._tag === 'Left' || registered.right.kind !== 'TOTP') throw new Error('TOTP registration failed');
    const enabled = await handlers.enableEnrollment({ app, username: 'rita', otp: totpAt(registered.right.secret, server.clock()) });
    if (enabled._tag === 'Left') throw new Error(enabled.left.message);
    const codes = enabled.right.recovery_codes!;
    expect(codes).toHaveLength(10);
    const recoveryId = enrollmentIdFor(deps.keyedHash, app.app_id, 'rita', 'RECOVERY');
    const issued = (await deps.store.readStream(enrollmentStream(recoveryId))).find((e) => e.type === 'RecoveryCodesIssued');
    const stored = (issued!.data as RecoveryCodesIssued['data']).code_hashes;
    expect(stored).toHaveLength(10);

    expect((await makeVerifyFactor({ ...deps, safeEqual: neverEqual })({ app, username: 'rita', otp: codes[0]! }))._tag).toBe('Left');

    for (const index of [0, 9]) {
      const spy = recording(deps.safeEqual);
      const used = await makeVerifyFactor({ ...deps, safeEqual: spy.safeEqual })({ app, username: 'rita', otp: codes[index]! });
      expect(used).toEqual({ _tag: 'Right', right: { success: true, status: 'APPROVED' } });
      const candidate = deps.keyedHash('recovery-code', `${recoveryId}:${codes[index]}`);
      expect(spy.calls).toEqual(stored.map((hash) => [candidate, hash]));
    }
  });

  it('enabling a sent-code factor whose confirmation was approved before compares the code through safeEqual', async () => {
    const { handlers } = server.service;
    const registered = await handlers.registerEnrollment({ app, username: 'erin', otp_method: 'EMAIL', destination: 'erin@example.com', client_ip: undefined });
    if (registered._tag === 'Left' || registered.right.kind !== 'SENT') throw new Error('EMAIL registration failed');
    const { challenge_id } = registered.right;
    const code = await codeFromOutbox(server.outboxFile, challenge_id);
    // Approved by enable's own check, its activation not recorded (a crash between the two).
    expect((await makeVerifyChallenge(deps, 'ENROLLMENT')({ app_id: app.app_id, challenge_id, otp: code }))._tag).toBe('Right');

    expect((await makeEnableEnrollment({ ...deps, safeEqual: neverEqual })({ app, username: 'erin', otp: code }))._tag).toBe('Left');
    const spy = recording(deps.safeEqual);
    expect(await makeEnableEnrollment({ ...deps, safeEqual: spy.safeEqual })({ app, username: 'erin', otp: code })).toMatchObject({ _tag: 'Right', right: { status: 'ACTIVE' } });
    const issued = (await deps.store.readStream(challengeStream(challenge_id))).find((e) => e.type === 'ChallengeIssued');
    expect(spy.calls).toContainEqual([(issued!.data as ChallengeIssued['data']).code_hash, (issued!.data as ChallengeIssued['data']).code_hash]);
  });

  it("the log's seals and the snapshots' seals are checked through safeEqual", async () => {
    const keyring = createKeyring([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
    const body = { through: 10, count: 10, chain: 'ab'.repeat(32) };
    const { mac } = createSealSigner(keyring, realSafeEqual).sign(body);
    expect(createSealSigner(keyring, realSafeEqual).verify(body, 'k1', mac)).toBe(true);
    expect(createSealSigner(keyring, neverEqual).verify(body, 'k1', mac)).toBe(false);

    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const raw = createInMemorySnapshotStore();
    const keyedHash = createKeyedHash(keyring);
    const snapshot = { stream: 'enrollment-1', revision: 3, event_id: 'e-3', version: 'enrollment/1', state: { kind: 'NONE' } };
    await sealSnapshots(raw, { keyedHash, safeEqual: realSafeEqual, logger: quiet }).save(snapshot);
    expect(await sealSnapshots(raw, { keyedHash, safeEqual: realSafeEqual, logger: quiet }).load('enrollment-1')).toBeDefined();
    expect(await sealSnapshots(raw, { keyedHash, safeEqual: neverEqual, logger: quiet }).load('enrollment-1')).toBeUndefined();
  });
});
