import { throttledAddress } from 'src/auth/client-address';

describe('throttledAddress', () => {
  it('counts an IPv4 address as it is, and an IPv4-mapped IPv6 one as its IPv4 however it is written', () => {
    expect(throttledAddress('203.0.113.7')).toBe('203.0.113.7');
    for (const mapped of ['::ffff:203.0.113.7', '::FFFF:cb00:7107', '0:0:0:0:0:ffff:203.0.113.7', '0000:0000:0000:0000:0000:ffff:cb00:7107']) {
      expect([mapped, throttledAddress(mapped)]).toEqual([mapped, '203.0.113.7']);
    }
    // Not every IPv4 client in one bucket: two mapped addresses stay two.
    expect(throttledAddress('::ffff:198.51.100.1')).toBe('198.51.100.1');
  });

  it('counts an address it cannot read as itself, and none at all (a socket already gone) as unknown', () => {
    expect(throttledAddress('unknown')).toBe('unknown');
    expect(throttledAddress(undefined)).toBe('unknown');
    expect(throttledAddress('')).toBe('unknown');
  });

  it('counts every address of one IPv6 /64 as one, however it is written', () => {
    const one = '2001:db8:85a3:42::/64';
    for (const ip of ['2001:db8:85a3:42::1', '2001:0db8:85a3:0042:ffff:1:2:3', '2001:DB8:85A3:42:a::', '2001:db8:85a3:42:0:0:0:1%eth0']) {
      expect([ip, throttledAddress(ip)]).toEqual([ip, one]);
    }
    expect(throttledAddress('2001:db8:85a3:43::1')).not.toBe(one);
  });

  it('expands :: wherever it stands, and an embedded IPv4 tail', () => {
    expect(throttledAddress('::1')).toBe('0:0:0:0::/64');
    expect(throttledAddress('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttledAddress('2001:db8:1:2:3::')).toBe('2001:db8:1:2::/64');
    expect(throttledAddress('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64');
    expect(throttledAddress('1:2:3:4:5:6:192.0.2.33')).toBe('1:2:3:4::/64');
  });
});
