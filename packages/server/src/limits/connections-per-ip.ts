import { isIPv6 } from 'node:net'

/**
 * Counts open connections per client address so one address cannot exhaust the server.
 * IPv4-mapped IPv6 addresses count as their IPv4 address; IPv6 addresses count per /64
 * (one subscriber usually holds a whole /64, so counting single addresses would not limit).
 */
export class ConnectionsPerIp {
  private readonly counts = new Map<string, number>()

  /** `max` 0 = unlimited. */
  constructor(private readonly max: number) {}

  /** Takes a slot for the address; false (and nothing taken) when it is at the limit. */
  tryAcquire(address: string): boolean {
    if (this.max <= 0) return true
    const key = addressKey(address)
    const n = this.counts.get(key) ?? 0
    if (n >= this.max) return false
    this.counts.set(key, n + 1)
    return true
  }

  release(address: string): void {
    if (this.max <= 0) return
    const key = addressKey(address)
    const n = this.counts.get(key)
    if (n === undefined) return
    if (n <= 1) this.counts.delete(key)
    else this.counts.set(key, n - 1)
  }

  count(address: string): number {
    return this.counts.get(addressKey(address)) ?? 0
  }
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1] as string
  if (!isIPv6(address)) return address
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`
}

/** The eight hextets of an IPv6 address (zone id dropped). */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0')
  return [...left, ...fill, ...right].map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''))
}
