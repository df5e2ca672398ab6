/**
 * A snapshot is used only with the seal the service computed over its stream, revision, event
 * id, version and state: an edited row, one copied to another stream, or one without a seal is
 * ignored (and logged), so the service decides only on states its log produced.
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Logger, Snapshot, SnapshotStore } from '../../../src/application/ports.js';
import { createKeyedHash, safeEqual } from '../../../src/infrastructure/crypto/keyed-hash.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';
import { createInMemorySnapshotStore } from '../../../src/infrastructure/snapshots/in-memory-snapshot-store.js';
import { sealSnapshots } from '../../../src/infrastructure/snapshots/sealed.js';

const keyedHash = createKeyedHash(createKeyring([{ id: 'k1', key: randomBytes(32) }]));
const setup = () => {
  const raw = createInMemorySnapshotStore();
  const warnings: string[] = [];
  const logger: Logger = { debug: () => undefined, info: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined };
  return { raw, warnings, sealed: sealSnapshots(raw, { keyedHash, safeEqual, logger }) };
};
const taken: Snapshot = { stream: 'enrollment-1', revision: 49, event_id: 'e-49', version: 'enrollment/1', state: { kind: 'FACTOR', failures: 0, last_step: 10 } };

/** Rewrites the stored row behind the service's back. */
const tamper = async (raw: SnapshotStore, stream: string, change: (s: Snapshot) => Snapshot) => raw.save(change((await raw.load(stream))!));

describe('sealed snapshots', () => {
  it('come back as saved, with a seal the raw store keeps', async () => {
    const { raw, sealed, warnings } = setup();
    await sealed.save(taken);
    expect(await sealed.load('enrollment-1')).toEqual({ ...taken, seal: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await raw.load('enrollment-1'))?.seal).toBeDefined();
    expect(warnings).toEqual([]);
  });

  it.each<[string, (s: Snapshot) => Snapshot]>([
    ['an edited state', (s) => ({ ...s, state: { ...(s.state as object), failures: 0, last_step: 99 } })],
    ['an edited revision', (s) => ({ ...s, revision: 99 })],
    ['an edited event id', (s) => ({ ...s, event_id: 'e-other' })],
    ['an edited version', (s) => ({ ...s, version: 'enrollment/2' })],
    ['no seal', ({ seal: _seal, ...s }) => s],
  ])('are ignored with %s', async (_what, change) => {
    const { raw, sealed, warnings } = setup();
    await sealed.save({ ...taken, state: { kind: 'FACTOR', failures: 3, last_step: 10 } });
    await tamper(raw, 'enrollment-1', change);
    expect(await sealed.load('enrollment-1')).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('are ignored when copied to another stream', async () => {
    const { raw, sealed } = setup();
    await sealed.save(taken);
    await raw.save({ ...(await raw.load('enrollment-1'))!, stream: 'enrollment-2' });
    expect(await sealed.load('enrollment-2')).toBeUndefined();
    expect(await sealed.load('enrollment-1')).toBeDefined();
  });

  it('do not verify under another key (another deployment\'s rows)', async () => {
    const { raw, sealed } = setup();
    await sealed.save(taken);
    const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const other = sealSnapshots(raw, { keyedHash: createKeyedHash(createKeyring([{ id: 'k1', key: randomBytes(32) }])), safeEqual, logger: quiet });
    await expect(other.load('enrollment-1')).resolves.toBeUndefined();
  });
});
