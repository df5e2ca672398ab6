import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';

const a = { id: 'a', key: randomBytes(32) };
const b = { id: 'b', key: randomBytes(32) };

describe('keyring', () => {
  it('makes the first key current and finds every key by id', () => {
    const keyring = createKeyring([b, a]);
    expect(keyring.current.id).toBe('b');
    expect(keyring.current.key.equals(b.key)).toBe(true);
    expect(keyring.byId('a')?.key.equals(a.key)).toBe(true);
    expect(keyring.byId('missing')).toBeUndefined();
  });

  it.each([
    ['no key', []],
    ['a 16-byte key', [{ id: 'short', key: randomBytes(16) }]],
    ['a 33-byte key', [a, { id: 'long', key: randomBytes(33) }]],
    ['an empty id', [{ id: '', key: randomBytes(32) }]],
    ['duplicate ids', [a, { id: 'a', key: randomBytes(32) }]],
  ])('refuses %s', (_, keys) => {
    expect(() => createKeyring(keys)).toThrow(/master key|Keyring/i);
  });

  it('names the offending key and the expected size without printing key material', () => {
    const key = randomBytes(16);
    let message = '';
    try {
      createKeyring([{ id: 'k-2024', key }]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('k-2024');
    expect(message).toContain('32 bytes');
    expect(message).not.toContain(key.toString('hex'));
    expect(message).not.toContain(key.toString('base64'));
  });

  it('derives stable 32-byte keys, distinct per label and per master key', () => {
    const one = createKeyring([a]);
    const again = createKeyring([{ id: 'a', key: Buffer.from(a.key) }]);
    expect(one.derive('hmac:code')).toHaveLength(32);
    expect(one.derive('hmac:code').equals(again.derive('hmac:code'))).toBe(true);
    expect(one.derive('hmac:code').equals(one.derive('hmac:api-key'))).toBe(false);
    expect(one.derive('hmac:code').equals(a.key)).toBe(false);
    expect(createKeyring([b]).derive('hmac:code').equals(one.derive('hmac:code'))).toBe(false);
  });

  it('derives from the current key by default and from a named key on request', () => {
    const rotated = createKeyring([b, a]);
    expect(rotated.derive('x').equals(createKeyring([b]).derive('x'))).toBe(true);
    expect(rotated.derive('x', 'a').equals(createKeyring([a]).derive('x'))).toBe(true);
    expect(() => rotated.derive('x', 'nope')).toThrow(/nope/);
  });

  it('is not affected by later changes to the caller\'s buffers', () => {
    const key = randomBytes(32);
    const keyring = createKeyring([{ id: 'm', key }]);
    const before = keyring.derive('x');
    key.fill(0);
    expect(keyring.derive('x').equals(before)).toBe(true);
  });
});
