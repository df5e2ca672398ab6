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
  });
});
