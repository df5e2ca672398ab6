import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key per-IP limits count an address under. One IPv6 host usually holds a whole /64 (SLAAC,
 * privacy addresses), so counting single IPv6 addresses would let a client rotate past any
 * limit: an IPv6 address counts as its /64. An IPv4 address seen through a dual-stack socket
 * counts as the IPv4 address, however it is spelt (`::ffff:192.0.2.1`, `::ffff:c000:201`,
 * `0:0:0:0:0:ffff:192.0.2.1`): told by its groups, not its text, since a spelling the text
 * missed counted apart, and every such address in one shared `0:0:0:0::/64`. Anything else (no
 * address) is its own key.
 */
export const addressKey = (address: string): string => {
  if (isIPv4(address)) return address;
  const bare = address.replace(/%.*$/, ''); // a zone (fe80::1%eth0) names an interface, not a host
  if (!isIPv6(bare)) return address;
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((group) => group === '0') && groups[5] === 'ffff') {
    const [high, low] = [parseInt(groups[6]!, 16), parseInt(groups[7]!, 16)];
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
};

/** The eight 16-bit groups of a valid IPv6 address, in lower-case hex without leading zeros. */
const ipv6Groups = (address: string): string[] => {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text); // an IPv4 tail is the last two groups
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
};
