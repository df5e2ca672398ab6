import { describe, expect, it } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import { createKeyedHash, safeEqual } from '../../../src/infrastructure/crypto/keyed-hash.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';

const keyring = createKeyring([{ id: 'm1', key: randomBytes(32) }]);

describe('keyed hash', () => {
  const hash = createKeyedHash(keyring);

  it('is HMAC-SHA256 hex under the key derived for the purpose', () => {
    const expected = createHmac('sha256', keyring.derive('keyed-hash:code')).update('123456').digest('hex');
    expect(hash('code', '123456')).toBe(expected);
    expect(hash('code', '123456')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable across instances (restarts) with the same master key', () => {
    const restarted = createKeyedHash(createKeyring([{ id: 'm1', key: Buffer.from(keyring.current.key) }]));
    expect(restarted('api-key', 'sk_live_abc')).toBe(hash('api-key', 'sk_live_abc'));
  });

  it('separates purposes and depends on the master key', () => {
    expect(hash('code', 'x')).not.toBe(hash('recovery-code', 'x'));
    expect(hash('identifier', 'x')).not.toBe(hash('destination', 'x'));
    expect(createKeyedHash(createKeyring([{ id: 'm2', key: randomBytes(32) }]))('code', 'x')).not.toBe(hash('code', 'x'));
  });

  it('is not a plain hash of the value', () => {
    expect(hash('code', '000000')).not.toBe(createHmac('sha256', '').update('000000').digest('hex'));
  });
});

describe('safeEqual', () => {
  it.each([
    ['abc', 'abc', true],
    ['', '', true],
    ['é✓', 'é✓', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['ab', 'abc', false],
    ['abc', '', false],
    ['123456', '123457', false],
  ])('%j vs %j => %s', (a, b, expected) => {
    expect(safeEqual(a, b)).toBe(expected);
  });

  it('compares the bytes, not the UTF-16 length', () => {
    expect(safeEqual('é', 'e\u0301')).toBe(false);
  });
});
