import type { Clock } from '../clock.js'
import type { HooksConfig } from '../config/types.js'
import type { ConceptModule } from '../core/concept-module.js'
import type { Logger } from '../log.js'
import type { OccupancyChange } from '../occupancy/node-occupancy.js'
import type { HookEvent, HookEventType } from './hook-events.js'
import { HookSender, type HookStats } from './hook-sender.js'
import { ServerEvents } from './server-events.js'

export interface HooksModule extends ConceptModule {
  /** `server.on(event, fn)`. */
  readonly events: ServerEvents
  /** Called by the node's occupancy for the changes it caused. */
  occupancyChanged(change: OccupancyChange): void
}

export interface HooksDeps {
  config: HooksConfig
  nodeId: string
  clock: Clock
  stats: HookStats
  log: Logger
}

/**
 * Occupancy and connection events, for the app's backend (POSTed to `hooks.url`, see
 * HookSender) and for the embedding app (`server.on`). Occupancy events come from the node that
 * changed the cluster-wide state, so each is reported once in a cluster.
 */
export function hooksModule(deps: HooksDeps): HooksModule {
  const { config, nodeId, clock, log } = deps
  const events = new ServerEvents(log)
  const sender =
    config.url && config.secret
      ? new HookSender({ ...config, url: config.url, secret: config.secret }, clock, deps.stats, log)
      : undefined
  const posted = new Set<HookEventType>(sender ? config.events : [])
  let seq = 0

  const wanted = (type: HookEventType) => posted.has(type) || events.has(type)
  const emit = (event: HookEvent) => {
    if (posted.has(event.type)) sender?.push(event)
    events.emit(event)
  }
  const id = () => `${nodeId}.${++seq}`

  return {
    name: 'hooks',
    events,
    messages: {},
    occupancyChanged(change) {
      if (!wanted(change.type)) return
      emit({ id: id(), type: change.type, kind: change.kind, name: change.name, at: clock.now(), node: nodeId })
    },
    sessionOpened(session) {
      if (!wanted('connect')) return
      emit({
        id: id(),
        type: 'connect',
        client: session.id,
        user: session.user?.id ?? null,
        at: clock.now(),
        node: nodeId,
      })
    },
    sessionClosed(session, code, reason) {
      // Only a session that connected (completed its handshake) is reported as disconnected.
      if (session.welcomed && wanted('disconnect')) {
        const user = session.user?.id ?? null
        emit({ id: id(), type: 'disconnect', client: session.id, user, code, reason, at: clock.now(), node: nodeId })
      }
    },
    close: async () => sender?.close(),
  }
}
