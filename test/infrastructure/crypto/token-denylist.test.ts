import { describe, expect, it } from '@jest/globals';
import { createInMemoryTokenDenylist } from '../../../src/infrastructure/abuse/in-memory-denylist.js';

describe('in-memory token denylist', () => {
  const setup = () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const denylist = createInMemoryTokenDenylist(() => new Date(now));
    return { denylist, at: (ms: number) => new Date(now + ms), advance: (ms: number) => void (now += ms) };
  };

  it('reports a revoked jti until `until`, and nothing else', async () => {
    const { denylist, at, advance } = setup();
    await denylist.revoke('jti-1', at(60_000));
    expect(await denylist.isRevoked('jti-1')).toBe(true);
    expect(await denylist.isRevoked('jti-2')).toBe(false);
    advance(59_999);
    expect(await denylist.isRevoked('jti-1')).toBe(true);
    advance(1);
    expect(await denylist.isRevoked('jti-1')).toBe(false);
  });

  it('keeps the later expiry when revoked twice', async () => {
    const { denylist, at, advance } = setup();
    await denylist.revoke('j', at(10_000));
    await denylist.revoke('j', at(5_000));
    advance(7_000);
    expect(await denylist.isRevoked('j')).toBe(true);
  });

  it('prunes entries once their `until` has passed', async () => {
    const { denylist, at, advance } = setup();
    for (let i = 0; i < 100; i++) await denylist.revoke(`old-${i}`, at(1_000));
    await denylist.revoke('long', at(3_600_000));
    expect(denylist.size()).toBe(101);
    advance(2_000);
    await denylist.revoke('new', at(1_000));
    expect(denylist.size()).toBe(2);
    expect(await denylist.isRevoked('long')).toBe(true);
  });

  it('does not store a revocation that has already expired', async () => {
    const { denylist, at } = setup();
    await denylist.revoke('past', at(-1));
    expect(denylist.size()).toBe(0);
    expect(await denylist.isRevoked('past')).toBe(false);
  });
});
