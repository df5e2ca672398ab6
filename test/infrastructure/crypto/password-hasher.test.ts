import { describe, expect, it } from '@jest/globals';
import { createArgon2PasswordHasher } from '../../../src/infrastructure/crypto/password-hasher.js';

// PHC string: $argon2id$v=19$<k=v,...>$salt$hash; the parameter order is the library's choice.
const paramsOf = (encoded: string): Record<string, number> => {
  const [, type, version, params] = encoded.split('$');
  expect(type).toBe('argon2id');
  expect(version).toBe('v=19');
  return Object.fromEntries((params ?? '').split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
};

describe('argon2 password hasher', () => {
  const hasher = createArgon2PasswordHasher();

  it('hashes with argon2id at m >= 19456 KiB, t >= 2, p = 1', async () => {
    const encoded = await hasher.hash('correct horse battery staple');
    const { m, t, p } = paramsOf(encoded);
    expect(m).toBeGreaterThanOrEqual(19456);
    expect(t).toBeGreaterThanOrEqual(2);
    expect(p).toBe(1);
    expect(encoded).not.toContain('correct horse');
  });

  it('verifies the right password only', async () => {
    const encoded = await hasher.hash('s3cret-pässword');
    expect(await hasher.verify(encoded, 's3cret-pässword')).toBe(true);
    expect(await hasher.verify(encoded, 's3cret-password')).toBe(false);
    expect(await hasher.verify(encoded, '')).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hasher.hash('same')).not.toBe(await hasher.hash('same'));
  });

  it.each(['', 'not a hash', '$argon2id$v=19$m=19456,t=2,p=1$bad', '$2b$10$abcdefghijklmnopqrstuu'])('returns false for the malformed hash %j', async (encoded) => {
    await expect(hasher.verify(encoded, 'anything')).resolves.toBe(false);
  });

  it('honours stronger settings and refuses weaker ones', async () => {
    const strong = createArgon2PasswordHasher({ memoryCostKiB: 32768, timeCost: 3 });
    expect(paramsOf(await strong.hash('x'))).toEqual({ m: 32768, t: 3, p: 1 });
    expect(() => createArgon2PasswordHasher({ memoryCostKiB: 4096 })).toThrow(/memoryCost/);
    expect(() => createArgon2PasswordHasher({ timeCost: 1 })).toThrow(/timeCost/);
    expect(() => createArgon2PasswordHasher({ memoryCostKiB: 1_048_577 })).toThrow(/memoryCost/);
    expect(() => createArgon2PasswordHasher({ timeCost: 21 })).toThrow(/timeCost/);
  });
});

describe('argon2 password hasher: needsRehash', () => {
  const raised = createArgon2PasswordHasher({ memoryCostKiB: 19456, timeCost: 3 });
  // A hash of 'x' with its parameters rewritten (as a hash made at those would read).
  const withParams = (encoded: string, m: number, t: number, p = 1) => {
    const parts = encoded.split('$');
    parts[3] = `m=${m},t=${t},p=${p}`;
    return parts.join('$');
  };

  it('is false for a hash made at its own parameters, the default ones as raised ones', async () => {
    const hasher = createArgon2PasswordHasher();
    expect(hasher.needsRehash(await hasher.hash('x'))).toBe(false);
    expect(raised.needsRehash(await raised.hash('x'))).toBe(false);
  });

  it('is true for a hash made at a lower time or memory cost than configured', async () => {
    const atDefault = await createArgon2PasswordHasher().hash('x');
    expect(raised.needsRehash(atDefault)).toBe(true);
    const moreMemory = createArgon2PasswordHasher({ memoryCostKiB: 32768 });
    expect(moreMemory.needsRehash(atDefault)).toBe(true);
    expect(moreMemory.needsRehash(await moreMemory.hash('x'))).toBe(false);
  });

  it('is true for any parameter that differs (lanes, a higher cost than configured)', async () => {
    const encoded = await raised.hash('x');
    expect(raised.needsRehash(withParams(encoded, 19456, 3))).toBe(false);
    expect(raised.needsRehash(withParams(encoded, 19456, 3, 4))).toBe(true);
    expect(raised.needsRehash(withParams(encoded, 65536, 3))).toBe(true);
    expect(raised.needsRehash(withParams(encoded, 19456, 4))).toBe(true);
  });

  it.each([
    '',
    'not a hash',
    '$argon2id$v=19$m=19456,t=3,p=1',
    '$argon2id$v=19$m=19456,t=3,p=1$c2FsdHNhbHQ',
    '$argon2id$v=19$m=lots,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    '$argon2id$v=19$m=19456,t=3$c2FsdHNhbHQ$aGFzaGhhc2g',
    '$argon2id$v=19$m=19456,t=3,t=3$c2FsdHNhbHQ$aGFzaGhhc2g',
    '$argon2id$v=19$m=19456,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g$',
    '$argon2id$v=16$m=19456,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    '$argon2i$v=19$m=19456,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    '$argon2d$v=19$m=19456,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    '$2b$10$abcdefghijklmnopqrstuu',
  ])('is true for %j: unparsable, another version or another type', (encoded) => {
    expect(raised.needsRehash(encoded)).toBe(true);
  });
});
