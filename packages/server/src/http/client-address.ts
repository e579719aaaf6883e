import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'

/** Named ranges for `server.trustProxy`, besides addresses and CIDR blocks. */
const PRESETS: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
}

/** Where a request really comes from, and whether it came through a trusted proxy. */
export interface ClientAddress {
  /** The client's address: what per-address limits count and logs show. */
  readonly address: string
  /** True when a trusted proxy forwarded it (its own address is never what is counted). */
  readonly forwarded: boolean
}

/**
 * Resolves client addresses behind reverse proxies. `X-Forwarded-For` is believed only when the
 * peer is a trusted proxy, and then only as far as the chain stays trusted: the client is the
 * right-most entry that is not itself a trusted proxy (entries left of it could be forged).
 */
export class ClientAddresses {
  private readonly trusted = new BlockList()
  private readonly any: boolean

  /** `trust`: addresses, CIDR blocks (`10.0.0.0/8`) and the presets loopback, private, linklocal. */
  constructor(trust: readonly string[]) {
    for (const entry of trust.flatMap((t) => PRESETS[t] ?? [t])) addRule(this.trusted, entry)
    this.any = trust.length > 0
  }

  /** Whether any proxy is trusted (`server.trustProxy` is not empty). */
  get trustsAny(): boolean {
    return this.any
  }

  isTrusted(address: string): boolean {
    if (!this.any) return false
    const plain = unmapped(address)
    const family = isIP(plain)
    return family !== 0 && this.trusted.check(plain, family === 6 ? 'ipv6' : 'ipv4')
  }

  of(req: IncomingMessage): ClientAddress {
    const peer = req.socket.remoteAddress ?? 'unknown'
    const header = req.headers['x-forwarded-for']
    if (header === undefined || !this.isTrusted(peer)) return { address: peer, forwarded: false }
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',')
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = (hops[i] as string).trim()
      if (isIP(unmapped(hop)) === 0) break // garbage: stop believing the chain here
      if (i === 0 || !this.isTrusted(hop)) return { address: hop, forwarded: true }
    }
    return { address: peer, forwarded: false }
  }
}

/** Validates one `server.trustProxy` entry; returns a problem or null (for config checks). */
export function trustProxyIssue(entry: string): string | null {
  if (PRESETS[entry]) return null
  try {
    addRule(new BlockList(), entry)
    return null
  } catch (err) {
    return (err as Error).message
  }
}

function addRule(list: BlockList, entry: string): void {
  const [address = '', bits] = entry.split('/')
  const family = isIP(address)
  if (family === 0) {
    throw new Error(`not an address, CIDR block or preset (${Object.keys(PRESETS).join(', ')}): ${entry}`)
  }
  const type = family === 6 ? 'ipv6' : 'ipv4'
  if (bits === undefined) return list.addAddress(address, type)
  const prefix = Number(bits)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
    throw new Error(`invalid prefix length in ${entry}`)
  }
  list.addSubnet(address, prefix, type)
}

function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}
