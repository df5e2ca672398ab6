import { describe, expect, it } from '@jest/globals';
import { addressKey } from '../../../src/interfaces/http/client-address.js';

describe('addressKey', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    // The same IPv4 address in the other spellings of its mapped form.
    ['::ffff:c000:201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
    ['0000:0000:0000:0000:0000:FFFF:C000:0201', '192.0.2.1'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4::/64'],
    ['unknown', 'unknown'],
  ])('counts %s as %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it('tells apart the /64s either side of a boundary and keeps the mapped form of a bad IPv4 as it is', () => {
    // Two IPv4 hosts are two keys, not one shared 0:0:0:0::/64.
    expect(addressKey('::ffff:c633:6407')).not.toBe(addressKey('::ffff:cb00:7109'));
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).not.toBe(addressKey('2001:db8:1:3::'));
    expect(addressKey('::ffff:999.1.1.1')).toBe('::ffff:999.1.1.1');
  });
});
