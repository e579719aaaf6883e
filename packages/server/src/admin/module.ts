import { isValidName } from '@switchboard/protocol'
import type { Clock } from '../clock.js'
import type { ConceptModule } from '../core/concept-module.js'
import { SwitchboardError } from '../errors.js'
import type { Logger } from '../log.js'
import type { RpcProviderHandle } from '../rpc/in-process.js'
import type { ServerRpc } from '../rpc/server-api.js'
import type { Session } from '../session/session.js'
import { ADMIN_RPC } from './admin-names.js'
import { SnapshotBuilder, type AdminSnapshot, type AdminSources } from './snapshot.js'

export interface AdminDeps {
  /** admin.enabled: when false the module does nothing. */
  enabled: boolean
  sources: AdminSources
  rpc: ServerRpc
  publish(channel: string, data: unknown): Promise<unknown>
  /** Finds a live session by client id (for "disconnect"). */
  session(clientId: string): Session | undefined
  clock: Clock
  log: Logger
}

/** How often a watched admin view is refreshed when nothing else changed (rates, buffers). */
const SAMPLE_MS = 1000
/** A connection opening or closing is shown after this (a burst coalesces into one snapshot). */
const PROMPT_MS = 50

/**
 * The live admin view's server side. Everything goes through Switchboard's own features: the
 * page connects as a client with an API key or an admin JWT, calls `switchboard/admin/snapshot`
 * (RPC) once and subscribes to the channel it names (`switchboard/admin/live/<node>`), where this
 * node publishes a new snapshot whenever it changed — sampled once a second while some admin watches, and promptly
 * after a connection opened or closed. Actions are RPCs too: `disconnect` and `publish`.
 * admin-policy.ts keeps those names to admins.
 */
export function adminModule(deps: AdminDeps): ConceptModule {
  const builder = new SnapshotBuilder(deps.sources)
  const handles: RpcProviderHandle[] = []
  let lastPublished = ''
  let cancel: (() => void) | undefined
  let closed = false
  let building = false

  const live = deps.sources.live
  // Asked once a second and after connection bursts: a lookup, not a scan of every session.
  const watched = () => deps.sources.hasSubscribers(live)
  /**
   * In a cluster every node provides the admin RPCs: a node that does not hold the caller's
   * (or the target's) connection hands the call on, so it reaches the node that does.
   */
  const elsewhere = (clientId: string | null) =>
    clientId !== null && !deps.session(clientId) && (deps.sources.liveNodes()?.length ?? 1) > 1
  /** Publishes a snapshot if an admin watches and it differs from the last one. */
  const refresh = async () => {
    if (building || !watched()) return
    building = true
    try {
      const snapshot = await builder.build()
      const { at: _at, ...content } = snapshot
      const key = JSON.stringify(content)
      if (key === lastPublished) return
      lastPublished = key
      await deps.publish(live, snapshot)
    } catch (err) {
      deps.log.warn({ err }, 'admin snapshot failed')
    } finally {
      building = false
    }
  }
  /** A prompt refresh is already due within PROMPT_MS. */
  let prompt = false
  const schedule = (ms: number) => {
    if (closed) return
    cancel?.()
    prompt = ms === PROMPT_MS
    cancel = deps.clock.schedule(ms, () => {
      prompt = false
      void refresh().finally(() => schedule(SAMPLE_MS))
    })
  }
  // A burst of connects or disconnects arms one timer, not a timer (and a cancelled one) each.
  const soon = () => {
    if (!prompt) schedule(PROMPT_MS)
  }

  return {
    name: 'admin',
    messages: {},
    sessionOpened: () => deps.enabled && soon(),
    sessionClosed: () => deps.enabled && soon(),
    async start() {
      if (!deps.enabled) return
      handles.push(
        deps.rpc.handle(ADMIN_RPC.snapshot, (_args, ctx): Promise<AdminSnapshot> | undefined => {
          if (elsewhere(ctx.clientId)) return void ctx.reject()
          return builder.build()
        }),
        deps.rpc.handle(ADMIN_RPC.disconnect, (args, ctx) => {
          const client = (args as { client?: unknown } | null)?.client
          if (typeof client !== 'string') throw new SwitchboardError('INVALID_DATA', 'args must be { client: string }')
          if (elsewhere(client)) return void ctx.reject()
          const session = deps.session(client)
          // 1000: closed on purpose; the client does not reconnect on its own.
          session?.close(1000, 'disconnected by an administrator')
          return { disconnected: session !== undefined }
        }),
        deps.rpc.handle(ADMIN_RPC.publish, async (args) => {
          const { channel, data } = (args ?? {}) as { channel?: unknown; data?: unknown }
          if (typeof channel !== 'string' || !isValidName(channel) || channel.startsWith('switchboard/'))
            throw new SwitchboardError('INVALID_DATA', 'args must be { channel: a channel name, data }')
          return deps.publish(channel, data ?? null)
        }),
      )
      await Promise.all(handles.map((h) => h.ready))
      schedule(SAMPLE_MS)
    },
    async close() {
      closed = true
      cancel?.()
      await Promise.all(handles.map((h) => h.stop()))
    },
  }
}
