import type { RpcCall, RpcOutcome, RpcRouter, RpcRouterHandler, SyncRpcPicker } from '../rpc-router.js'

interface Pool {
  ids: string[]
  /** Index of the provider after the last one picked. */
  cursor: number
}

/**
 * The single-node router: the registry is two maps and delivery is a function call. Complete
 * for one node; a cluster swaps in a router that keeps the registry in the engine (Redis) and
 * carries calls and outcomes between nodes.
 */
export class MemoryRpcRouter implements RpcRouter, SyncRpcPicker {
  private handler: RpcRouterHandler | undefined
  private readonly pools = new Map<string, Pool>()
  private readonly names = new Map<string, Set<string>>()

  async start(handler: RpcRouterHandler): Promise<void> {
    this.handler = handler
  }

  async register(name: string, providerId: string): Promise<void> {
    let names = this.names.get(providerId)
    if (!names) this.names.set(providerId, (names = new Set()))
    if (names.has(name)) return
    names.add(name)
    let pool = this.pools.get(name)
    if (!pool) this.pools.set(name, (pool = { ids: [], cursor: 0 }))
    pool.ids.push(providerId)
  }

  async unregister(name: string, providerId: string): Promise<void> {
    const names = this.names.get(providerId)
    if (!names?.delete(name)) return
    if (names.size === 0) this.names.delete(providerId)
    this.removeFromPool(name, providerId)
  }

  async unregisterAll(providerId: string): Promise<void> {
    const names = this.names.get(providerId)
    if (!names) return
    this.names.delete(providerId)
    for (const name of names) this.removeFromPool(name, providerId)
  }

  async pick(name: string, exclude: ReadonlySet<string> | undefined): Promise<string | null> {
    return this.pickNow(name, exclude)
  }

  deliver(providerId: string, call: RpcCall): void {
    const handler = this.handler
    if (!handler) return
    if (!this.names.get(providerId)?.has(call.name)) {
      handler.onOutcome(call.id, { kind: 'unavailable' })
      return
    }
    let replied = false
    handler.onInvoke(providerId, call, (outcome: RpcOutcome) => {
      if (replied) return
      replied = true
      handler.onOutcome(call.id, outcome)
    })
  }

  async providerCount(name: string): Promise<number> {
    return this.pools.get(name)?.ids.length ?? 0
  }

  async close(): Promise<void> {
    this.pools.clear()
    this.names.clear()
    this.handler = undefined
  }

  pickNow(name: string, exclude: ReadonlySet<string> | undefined): string | null {
    const pool = this.pools.get(name)
    if (!pool) return null
    const { ids } = pool
    const n = ids.length
    for (let k = 0; k < n; k++) {
      const i = (pool.cursor + k) % n
      const id = ids[i] as string
      if (exclude?.has(id)) continue
      pool.cursor = i + 1
      return id
    }
    return null
  }

  private removeFromPool(name: string, providerId: string): void {
    const pool = this.pools.get(name)
    if (!pool) return
    const i = pool.ids.indexOf(providerId)
    if (i < 0) return
    pool.ids.splice(i, 1)
    // Keep the rotation where it was: the provider after the removed one is next.
    if (i < pool.cursor) pool.cursor--
    if (pool.ids.length === 0) this.pools.delete(name)
    else pool.cursor %= pool.ids.length
  }
}
