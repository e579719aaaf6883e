import { randomBytes } from 'node:crypto'
import type { Clock } from '../../clock.js'
import type { FallbackTransport } from './fallback-transport.js'

/**
 * Where `/send`, `/poll` and the SDK's event stream find the session they address. The seam for
 * a cluster relay: on the node that does not hold a session `find` misses, and a relay built on
 * the engine can forward the request to the node that does (SPEC §5: no sticky sessions).
 */
export interface SessionDirectory {
  add(transport: FallbackTransport): void
  find(id: string): FallbackTransport | undefined
  remove(transport: FallbackTransport): void
  /** A single-use credential for the session's event stream, valid for `ttlMs`. */
  issueTicket(transport: FallbackTransport, ttlMs: number): string
  /** The session a ticket opens, once; undefined when unknown, used or expired. */
  redeemTicket(ticket: string): FallbackTransport | undefined
  readonly size: number
}

/** 128 random bits, base64url: session ids and tickets are unguessable. */
export function newSecret(): string {
  return randomBytes(16).toString('base64url')
}

/**
 * A session id or ticket: `<node id>.<secret>`. The node id is only a routing hint, so any node
 * of a cluster can relay a request to the node that holds the session without a lookup; the
 * holder still finds the session by the whole string, so a changed prefix opens nothing.
 */
export function routedSecret(nodeId: string): string {
  return `${nodeId}.${newSecret()}`
}

/** The node a session id or ticket names as its holder; undefined when it names none. */
export function holderOf(id: string): string | undefined {
  const dot = id.lastIndexOf('.')
  return dot > 0 && id.length <= 512 ? id.slice(0, dot) : undefined
}

/** The single-node directory: sessions this node holds, in memory. */
export class LocalSessionDirectory implements SessionDirectory {
  private readonly sessions = new Map<string, FallbackTransport>()
  private readonly tickets = new Map<string, { transport: FallbackTransport; expiresAt: number }>()

  constructor(
    private readonly clock: Clock,
    /** This node's id on the engine: the routing hint in the tickets it issues. */
    private readonly nodeId: string,
  ) {}

  get size(): number {
    return this.sessions.size
  }

  add(transport: FallbackTransport): void {
    this.sessions.set(transport.id, transport)
  }

  find(id: string): FallbackTransport | undefined {
    return this.sessions.get(id)
  }

  remove(transport: FallbackTransport): void {
    if (this.sessions.get(transport.id) === transport) this.sessions.delete(transport.id)
  }

  issueTicket(transport: FallbackTransport, ttlMs: number): string {
    const now = this.clock.now()
    // Every ticket lives as long, so the map is in expiry order: drop the expired from the front.
    for (const [t, entry] of this.tickets) {
      if (entry.expiresAt > now) break
      this.tickets.delete(t)
    }
    const ticket = routedSecret(this.nodeId)
    this.tickets.set(ticket, { transport, expiresAt: now + ttlMs })
    return ticket
  }

  redeemTicket(ticket: string): FallbackTransport | undefined {
    const now = this.clock.now()
    const entry = this.tickets.get(ticket)
    if (!entry) return undefined
    this.tickets.delete(ticket)
    return entry.expiresAt > now ? entry.transport : undefined
  }
}
