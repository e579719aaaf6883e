import { describe, expect, it } from 'vitest'
import { addressKey, ConnectionsPerIp } from './connections-per-ip.js'

describe('connections per IP', () => {
  it('counts IPv4-mapped IPv6 as IPv4 and IPv6 per /64', () => {
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(addressKey('10.0.0.1')).toBe('10.0.0.1')
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:DB8:0001:0002::a%eth0')).toBe('2001:db8:1:2::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
  })

  it('refuses beyond the limit and frees a slot on release; 0 is unlimited', () => {
    const limit = new ConnectionsPerIp(2)
    expect(limit.tryAcquire('1.1.1.1')).toBe(true)
    expect(limit.tryAcquire('::ffff:1.1.1.1')).toBe(true)
    expect(limit.tryAcquire('1.1.1.1')).toBe(false)
    expect(limit.tryAcquire('2.2.2.2')).toBe(true)
    limit.release('1.1.1.1')
    expect(limit.count('1.1.1.1')).toBe(1)
    expect(limit.tryAcquire('1.1.1.1')).toBe(true)
    const unlimited = new ConnectionsPerIp(0)
    for (let i = 0; i < 1000; i++) expect(unlimited.tryAcquire('1.1.1.1')).toBe(true)
  })
})
