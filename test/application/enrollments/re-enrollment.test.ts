/**
 * A factor enrolled again, or disabled: the seed or destination it no longer uses is shredded
 * (its data key destroyed); a new seed's codes are its own (the step a code of the old seed used
 * refuses none of them), while an imported seed, which may be the old one, keeps the old used
 * step; and a TOTP factor that never was active starts again without its failed confirmations.
 * Factors enabled at once issue one set of recovery codes between them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../../src/application/apps/app-view.js';
import type { Deps } from '../../../src/application/deps.js';
import type { Handlers } from '../../../src/application/handlers.js';
import { enrollmentStream, type EnrollmentEvent } from '../../../src/domain/enrollment/index.js';
import type { SealedSecret } from '../../../src/domain/shared/sealed.js';
import { enrollmentIdFor } from '../../../src/application/ids.js';
import { makeIssueRecoveryCodes } from '../../../src/application/enrollments/regenerate-recovery-codes.js';
import { totpAt } from '../../support/flows.js';
import { startWithOwnedApp, type TestServer } from '../../support/test-server.js';

describe('enrolling again and disabling', () => {
  let server: TestServer;
  let deps: Deps;
  let handlers: Handlers;
  let app: ActiveApp;

  beforeAll(async () => {
    ({ server, deps, handlers, app } = await startWithOwnedApp());
  });
  afterAll(() => server.close());

  const registerTotp = async (username: string, secret?: string) => {
    const registered = await handlers.registerEnrollment({ app, username, otp_method: 'TOTP', client_ip: undefined, ...(secret ? { secret } : {}) });
    if (registered._tag === 'Left' || registered.right.kind !== 'TOTP') throw new Error('TOTP registration failed');
    return registered.right;
  };
  /** The sealed seeds and destinations of the factor's starts, oldest first. */
  const starts = async (enrollmentId: string) => {
    const stream = enrollmentStream(enrollmentId);
    const events = (await deps.store.readStream(stream)).filter((e) => e.type === 'EnrollmentStarted');
    return { stream, sealed: events.map((e) => e.data as Extract<EnrollmentEvent, { type: 'EnrollmentStarted' }>['data']) };
  };
  const opens = (sealed: SealedSecret | undefined, stream: string) => deps.vault.open(sealed!, stream);
  const enable = (username: string, otp: string) => handlers.enableEnrollment({ app, username, otp });

  it("shreds a pending TOTP factor's seed when it is registered again, and an active one's when disabled", async () => {
    const first = await registerTotp('ann');
    const second = await registerTotp('ann');
    const { stream, sealed } = await starts(first.enrollment_id);
    expect(sealed).toHaveLength(2);
    expect(await opens(sealed[0]!.secret, stream)).toBeNull();
    expect(await opens(sealed[1]!.secret, stream)).toBe(second.secret);

    expect((await enable('ann', totpAt(second.secret, server.clock())))._tag).toBe('Right');
    expect((await handlers.disableEnrollment(app, 'ann', 'TOTP'))._tag).toBe('Right');
    expect(await opens(sealed[1]!.secret, stream)).toBeNull();
  });

  it("shreds an email factor's destination when it is registered again and when disabled", async () => {
    const register = (destination: string) => handlers.registerEnrollment({ app, username: 'bea', otp_method: 'EMAIL', destination, client_ip: undefined });
    const first = await register('bea@example.com');
    if (first._tag === 'Left') throw new Error(first.left.message);
    server.clock.advance(31_000); // past the resend cooldown of the first confirmation code
    expect((await register('bea.other@example.com'))._tag).toBe('Right');
    const { stream, sealed } = await starts(first.right.enrollment_id);
    expect(await opens(sealed[0]!.destination, stream)).toBeNull();
    expect(await opens(sealed[1]!.destination, stream)).toBe('bea.other@example.com');
    expect((await handlers.disableEnrollment(app, 'bea', 'EMAIL'))._tag).toBe('Right');
    expect(await opens(sealed[1]!.destination, stream)).toBeNull();
  });

  it("accepts a new seed's codes at once after a re-enrollment, at the steps the old seed's codes used", async () => {
    const verify = (otp: string) => handlers.verifyFactor({ app, username: 'cid', otp });
    const first = await registerTotp('cid');
    const enabledAt = server.clock().getTime();
    expect((await enable('cid', totpAt(first.secret, server.clock())))._tag).toBe('Right');
    server.clock.advance(30_000);
    // A verification of the old seed: its step is used, and claimed in the replay guard.
    expect((await verify(totpAt(first.secret, server.clock())))._tag).toBe('Right');
    expect((await handlers.disableEnrollment(app, 'cid', 'TOTP'))._tag).toBe('Right');
    const second = await registerTotp('cid');
    // The new seed's code of the step that enabled the old one (the window takes the step before).
    expect((await enable('cid', totpAt(second.secret, new Date(enabledAt))))._tag).toBe('Right');
    // And of the step the old seed's verification used and claimed.
    expect((await verify(totpAt(second.secret, server.clock())))._tag).toBe('Right');
  });

  it('keeps the used step for an imported seed, which may be the same one', async () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await registerTotp('dot', secret);
    const code = totpAt(secret, server.clock());
    expect((await enable('dot', code))._tag).toBe('Right');
    expect((await handlers.disableEnrollment(app, 'dot', 'TOTP'))._tag).toBe('Right');
    await registerTotp('dot', secret);
    // The code that enabled the factor before is not taken again: a replay across the re-import.
    const replayed = await enable('dot', code);
    expect(replayed._tag === 'Left' && replayed.left.code).toBe('INVALID_CODE');
    server.clock.advance(30_000);
    expect((await enable('dot', totpAt(secret, server.clock())))._tag).toBe('Right');
  });

  it('lets a TOTP factor that never was active start again without its failed confirmations', async () => {
    await registerTotp('eve');
    // Past the day's cap of failures (20 by default): a new seed with a right code is still refused while they count.
    for (let round = 0; round < 5; round++) {
      await registerTotp('eve');
      for (let i = 0; i < 5; i++) await enable('eve', '000000');
    }
    const locked = await enable('eve', '000000');
    expect(locked._tag === 'Left' && locked.left.code).toBe('ENROLLMENT_LOCKED');
    const fresh = await registerTotp('eve');
    expect((await enable('eve', totpAt(fresh.secret, server.clock())))._tag).toBe('Right');
  });
});

describe('recovery codes issued by enabling', () => {
  it('issues one set when several enables ask at once, and the other askers keep it', async () => {
    const { server, deps, app } = await startWithOwnedApp();
    try {
      const issue = makeIssueRecoveryCodes(deps);
      const answers = await Promise.all(Array.from({ length: 5 }, () => issue(app, 'fay', { onlyIfNone: true })));
      const sets = answers.map((answer) => (answer._tag === 'Right' ? answer.right : 'refused'));
      expect(sets.filter((set) => Array.isArray(set))).toHaveLength(1);
      expect(sets.filter((set) => set === null)).toHaveLength(4);
      const issued = (await deps.store.readStream(enrollmentStream(enrollmentIdFor(deps.keyedHash, app.app_id, 'fay', 'RECOVERY')))).filter((e) => e.type === 'RecoveryCodesIssued');
      expect(issued).toHaveLength(1);
      // Asked for a new set (PUT /api/otp/recovery's way), it is replaced.
      expect((await issue(app, 'fay', { onlyIfNone: false }))._tag).toBe('Right');
    } finally {
      await server.close();
    }
  });
});
