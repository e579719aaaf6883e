import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ClientAddresses } from '../http/client-address.js'
import { SwitchboardError } from '../errors.js'
import type { ConnectRate } from './connect-rate.js'
import { ConnectionsPerIp } from './connections-per-ip.js'

export interface Admission {
  readonly address: string
  /** Forwarded by a trusted proxy: the count is the client's, never the proxy's own. */
  readonly forwarded: boolean
}

/** The address a socket holds a slot for, released when it closes. */
const HELD = Symbol('switchboard-held-address')
type HoldingSocket = Duplex & { [HELD]?: string }

/**
 * What every transport's new connection must pass: the per-address connection limit
 * (`limits.maxConnectionsPerIp`), counted by client address (behind a trusted proxy the
 * forwarded one, so a proxy's own address is never capped), then the node's admission rate
 * (`limits.connectsPerSecond`).
 */
export class ConnectionGate {
  private readonly perIp: ConnectionsPerIp
  /** One listener for every socket holding a slot (no closure per connection). */
  private readonly releaseOnClose: (this: HoldingSocket) => void

  constructor(
    private readonly addresses: ClientAddresses,
    readonly maxPerAddress: number,
    private readonly rate?: ConnectRate,
  ) {
    this.perIp = new ConnectionsPerIp(maxPerAddress)
    const perIp = this.perIp
    this.releaseOnClose = function (this: HoldingSocket) {
      const address = this[HELD]
      if (address === undefined) return
      this[HELD] = undefined
      perIp.release(address)
    }
  }

  /**
   * Whether admitting `req` needs the client's address now: a per-address limit, or a forwarded
   * address a trusted proxy may vouch for. Otherwise a connection learns its address only if
   * something asks: reading a socket's peer address is a getpeername call (~7 µs here, about 4%
   * of a WebSocket connect).
   */
  needsAddress(req: IncomingMessage): boolean {
    return this.maxPerAddress > 0 || (this.addresses.trustsAny && req.headers['x-forwarded-for'] !== undefined)
  }

  check(req: IncomingMessage): Admission {
    return this.addresses.of(req)
  }

  /**
   * Admits a connection on `socket`: a slot for its address (given back when the socket closes),
   * then the node's rate; throws like `acquire`. Without an admission (no per-address limit and
   * nothing forwarded: the address was not read) only the rate applies.
   */
  hold(admission: Admission | undefined, socket: Duplex): void {
    if (admission === undefined || this.maxPerAddress <= 0) return this.takeRate()
    this.acquire(admission)
    ;(socket as HoldingSocket)[HELD] = admission.address
    socket.on('close', this.releaseOnClose) // 'close' comes once; `once` would wrap it per socket
  }

  /**
   * Takes a slot for the connection; throws TOO_MANY_CONNECTIONS when its address is at the
   * limit, RATE_LIMITED with `data.retryAfterMs` (see `isAdmissionRefusal`) when the node admits
   * connections at its rate. Returns the release, to call once when the connection ends.
   */
  acquire(admission: Admission): () => void {
    const { address } = admission
    if (!this.perIp.tryAcquire(address)) {
      throw new SwitchboardError(
        'TOO_MANY_CONNECTIONS',
        `too many connections from ${address} (limits.maxConnectionsPerIp is ${this.maxPerAddress})`,
      )
    }
    // After the per-address check: an address over its own limit spends none of the node's rate.
    try {
      this.takeRate()
    } catch (err) {
      this.perIp.release(address)
      throw err
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.perIp.release(address)
    }
  }

  /** The node's admission rate (`limits.connectsPerSecond`): throws RATE_LIMITED with `data.retryAfterMs`. */
  private takeRate(): void {
    const waitMs = this.rate?.take() ?? 0
    if (waitMs > 0) {
      throw new SwitchboardError(
        'RATE_LIMITED',
        'the server is admitting new connections at its limit (limits.connectsPerSecond); retry later',
        { retryAfterMs: waitMs },
      )
    }
  }
}

/**
 * A refusal by the node's admission rate: plain HTTP answers it with 503 and Retry-After (the
 * node is busy, the client did nothing wrong), WebSockets with the `err` and 4006.
 */
export function isAdmissionRefusal(
  err: SwitchboardError,
): err is SwitchboardError & { data: { retryAfterMs: number } } {
  return (
    err.code === 'RATE_LIMITED' &&
    typeof (err.data as { retryAfterMs?: unknown } | undefined)?.retryAfterMs === 'number'
  )
}
