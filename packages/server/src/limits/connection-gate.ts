import type { IncomingMessage } from 'node:http'
import type { ClientAddresses } from '../http/client-address.js'
import { SwitchboardError } from '../errors.js'
import { ConnectionsPerIp } from './connections-per-ip.js'

export interface Admission {
  readonly address: string
  /** Forwarded by a trusted proxy: the count is the client's, never the proxy's own. */
  readonly forwarded: boolean
}

/**
 * The per-address connection limit (`limits.maxConnectionsPerIp`) for every transport, counted
 * by client address: behind a trusted proxy that is the forwarded address, so a proxy's own
 * address is never capped.
 */
export class ConnectionGate {
  private readonly perIp: ConnectionsPerIp

  constructor(
    private readonly addresses: ClientAddresses,
    readonly maxPerAddress: number,
  ) {
    this.perIp = new ConnectionsPerIp(maxPerAddress)
  }

  check(req: IncomingMessage): Admission {
    return this.addresses.of(req)
  }

  /**
   * Takes a slot for the connection; throws TOO_MANY_CONNECTIONS when its address is at the
   * limit. Returns the release, to call once when the connection ends.
   */
  acquire(admission: Admission): () => void {
    const { address } = admission
    if (!this.perIp.tryAcquire(address)) {
      throw new SwitchboardError(
        'TOO_MANY_CONNECTIONS',
        `too many connections from ${address} (limits.maxConnectionsPerIp is ${this.maxPerAddress})`,
      )
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.perIp.release(address)
    }
  }
}
