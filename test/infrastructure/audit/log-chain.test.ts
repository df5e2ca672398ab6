import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../../src/application/ports.js';
import { canonicalJson, sha256LogChain } from '../../../src/infrastructure/audit/log-chain.js';
import { createSealSigner } from '../../../src/infrastructure/audit/seal-signer.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';
import { safeEqual } from '../../../src/infrastructure/crypto/keyed-hash.js';

const event: RecordedEvent = {
  id: '3f1c2a4e-8b7d-4c6e-9a1b-2d3e4f5a6b7c',
  stream: 'challenge-1',
  revision: 0,
  position: 1,
  type: 'ChallengeIssued',
  data: { b: [1, { y: 'é', x: null }], a: 'text' },
  metadata: { request_id: 'r-1' },
  recorded_at: '2026-11-30T06:00:00.000Z',
};

describe('the log chain', () => {
  it('does not depend on the order a store keeps object keys in', () => {
    const reordered = { ...event, data: { a: 'text', b: [1, { x: null, y: 'é' }] } };
    expect(sha256LogChain.link(sha256LogChain.genesis, reordered)).toBe(sha256LogChain.link(sha256LogChain.genesis, event));
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });

  // Seals already in logs were made with this format: changing it makes every old seal fail.
  it('keeps its format (a test vector)', () => {
    const text =
      '["otp-verify/log-chain/v1",1,"3f1c2a4e-8b7d-4c6e-9a1b-2d3e4f5a6b7c","challenge-1",0,"ChallengeIssued",' +
      '{"a":"text","b":[1,{"x":null,"y":"é"}]},{"request_id":"r-1"},"2026-11-30T06:00:00.000Z"]';
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(text, 'utf8').digest('hex');
    expect(sha256LogChain.genesis).toBe('0'.repeat(64));
    expect(sha256LogChain.link(sha256LogChain.genesis, event)).toBe(expected);
    expect(expected).toBe('8f843e8fb2be4f12f15a6817874eab71640fb4e0838b8d1a082852762d85014f');
  });

  it('depends on the value before', () => {
    expect(sha256LogChain.link('11'.repeat(32), event)).not.toBe(sha256LogChain.link(sha256LogChain.genesis, event));
  });
});

describe('seal MACs', () => {
  const keyring = createKeyring([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
  const signer = createSealSigner(keyring, safeEqual);
  const body = { through: 10, count: 9, chain: 'ab'.repeat(32) };

  it('sign under the current master key and verify only the exact body', () => {
    const { key_id, mac } = signer.sign(body);
    expect(key_id).toBe('k1');
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(signer.verify(body, 'k1', mac)).toBe(true);
    for (const changed of [{ ...body, through: 11 }, { ...body, count: 8 }, { ...body, chain: 'ac'.repeat(32) }]) expect(signer.verify(changed, 'k1', mac)).toBe(false);
    expect(signer.verify(body, 'k1', mac.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBe(false);
  });

  it('are keyed: the same body under another master key gets another MAC', () => {
    const other = createSealSigner(createKeyring([{ id: 'k1', key: Buffer.alloc(32, 8) }]), safeEqual);
    expect(other.sign(body).mac).not.toBe(signer.sign(body).mac);
    expect(other.verify(body, 'k1', signer.sign(body).mac)).toBe(false);
  });

  it('cannot be checked without the key they name', () => {
    expect(signer.verify(body, 'k9', signer.sign(body).mac)).toBeUndefined();
  });
});
