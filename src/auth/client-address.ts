import { isIPv4, isIPv6 } from 'node:net';

/** A dotted IPv4 tail of an IPv6 address as the two 16-bit groups it stands for. */
function dottedGroups(dotted: string): number[] {
  const [a, b, c, d] = dotted.split('.').map(Number);
  return [a * 256 + b, c * 256 + d];
}

/** The eight 16-bit groups of a valid IPv6 address. */
function groupsOf(address: string): number[] {
  const parse = (part: string): number[] => (part ? part.split(':').flatMap((g) => (g.includes('.') ? dottedGroups(g) : [parseInt(g, 16)])) : []);
  const [head, tail] = address.split('::');
  const before = parse(head);
  const after = tail === undefined ? [] : parse(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/**
 * The client address a throttle counts: an IPv4 address as it is (an IPv4-mapped IPv6 one, ::ffff:0:0/96 however it
 * is written, as its IPv4), an IPv6 one by its /64. A single IPv6 subscriber is given a whole /64 (often far more), so
 * counted by full address an attacker's one connection would have 2^64 fresh addresses for password spraying and mass
 * sign-ups. (A mapped address read as IPv6 would put every IPv4 client behind such a proxy in one /64.)
 */
export function throttledAddress(ip: string | undefined): string {
  const address = (ip ?? '').trim().toLowerCase().split('%')[0];
  if (isIPv4(address) || !isIPv6(address)) return address || 'unknown';
  const groups = groupsOf(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
