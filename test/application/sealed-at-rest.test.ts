/**
 * What the log keeps of a seed and a destination is the vault's sealing (AES-256-GCM under a
 * data key of its own, bound to its stream), not some other reversible form: the stored value
 * has the vault's shape, opens with the service's vault to the secret given, and is refused as
 * tampered under any other stream. (test/e2e/no-secrets-at-rest.test.ts checks no plain copy is anywhere.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActiveApp } from '../../src/application/apps/app-view.js';
import type { Deps } from '../../src/application/deps.js';
import type { Handlers } from '../../src/application/handlers.js';
import { enrollmentStream, type EnrollmentEvent } from '../../src/domain/enrollment/index.js';
import type { SealedSecret } from '../../src/domain/shared/sealed.js';
import { startWithOwnedApp, type TestServer } from '../support/test-server.js';

describe('seeds and destinations at rest', () => {
  let server: TestServer;
  let deps: Deps;
  let handlers: Handlers;
  let app: ActiveApp;

  beforeAll(async () => {
    ({ server, deps, handlers, app } = await startWithOwnedApp());
  });
  afterAll(() => server.close());

  const started = async (enrollmentId: string) => {
    const stream = enrollmentStream(enrollmentId);
    const event = (await deps.store.readStream(stream)).find((e) => e.type === 'EnrollmentStarted');
    return { stream, data: event!.data as Extract<EnrollmentEvent, { type: 'EnrollmentStarted' }>['data'] };
  };
  const expectVaultShape = (sealed: SealedSecret | undefined, plaintextLength: number) => {
    expect(Object.keys(sealed ?? {}).sort()).toEqual(['ciphertext', 'iv', 'key_id', 'tag']);
    expect(Buffer.from(sealed!.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed!.tag, 'base64')).toHaveLength(16);
    // GCM is a stream mode: as long as the plaintext, never longer, never padded.
    expect(Buffer.from(sealed!.ciphertext, 'base64')).toHaveLength(plaintextLength);
  };

  it('keeps a TOTP seed sealed by the vault, under a data key of its own, bound to its stream', async () => {
    const first = await handlers.registerEnrollment({ app, username: 'ann', otp_method: 'TOTP', client_ip: undefined });
    const second = await handlers.registerEnrollment({ app, username: 'ben', otp_method: 'TOTP', client_ip: undefined });
    if (first._tag === 'Left' || first.right.kind !== 'TOTP' || second._tag === 'Left' || second.right.kind !== 'TOTP') throw new Error('TOTP registration failed');
    const ann = await started(first.right.enrollment_id);
    const ben = await started(second.right.enrollment_id);
    expectVaultShape(ann.data.secret, first.right.secret.length);
    expect(await deps.vault.open(ann.data.secret!, ann.stream)).toBe(first.right.secret);
    await expect(deps.vault.open(ann.data.secret!, ben.stream)).rejects.toThrow('authentication failed');
    expect(ann.data.secret!.key_id).not.toBe(ben.data.secret!.key_id);
  });

  it('keeps a destination sealed by the vault, bound to its stream', async () => {
    const registered = await handlers.registerEnrollment({ app, username: 'cleo', otp_method: 'EMAIL', destination: 'cleo@example.com', client_ip: undefined });
    if (registered._tag === 'Left') throw new Error(registered.left.message);
    const cleo = await started(registered.right.enrollment_id);
    expectVaultShape(cleo.data.destination, 'cleo@example.com'.length);
    expect(await deps.vault.open(cleo.data.destination!, cleo.stream)).toBe('cleo@example.com');
    await expect(deps.vault.open(cleo.data.destination!, enrollmentStream('00000000-0000-4000-8000-000000000000'))).rejects.toThrow('authentication failed');
  });
});
