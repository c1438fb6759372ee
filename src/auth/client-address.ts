import { isIPv6 } from 'node:net';

/** How many 16-bit groups a written part of an IPv6 address stands for (an embedded IPv4 address is two). */
const groupsIn = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);

/**
 * The client address a throttle counts: an IPv4 address as it is (an IPv4-mapped IPv6 one as its IPv4), an IPv6 one by
 * its /64. A single IPv6 subscriber is given a whole /64 (often far more), so counted by full address an attacker's
 * one connection would have 2^64 fresh addresses for password spraying and mass sign-ups.
 */
export function throttledAddress(ip: string): string {
  const address = ip.trim().toLowerCase().split('%')[0];
  if (!isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1];
  const [head, tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - groupsIn(headGroups) - groupsIn(tailGroups)).fill('0');
  const prefix = [...headGroups, ...zeros, ...tailGroups].slice(0, 4).map((g) => g.replace(/^0+(?=.)/, ''));
  return `${prefix.join(':')}::/64`;
}
