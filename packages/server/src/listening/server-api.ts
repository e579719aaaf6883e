import { isValidPattern } from '@switchboard/protocol'
import type { OccupancyKind } from '../engine/occupancy.js'
import { SwitchboardError } from '../errors.js'
import type { Logger } from '../log.js'
import type { ListenService } from './listen-service.js'

/** Told when a matching name becomes active for this listener (`active: true`) and when it stops. */
export type ListenHandler = (name: string, state: { active: boolean }) => void

export interface ServerListenOptions {
  /** Channel subscriptions (default) or record subscriptions. */
  kind?: OccupancyKind
}

/** Returned by `server.listen(pattern, handler)`, shaped like the client's `sb.listen()` handle. */
export interface ServerListener {
  /** Resolves once the listener takes part (names already active have been offered to it). */
  readonly ready: Promise<void>
  /** Stops; names it had go to other listeners. Its handler hears nothing more. */
  stop(): Promise<void>
}

/** In-process listeners: trusted (no `listen` rule), otherwise like a client's. */
export function serverListen(service: ListenService, log: Logger) {
  return (pattern: string, handler: ListenHandler, options: ServerListenOptions = {}): ServerListener => {
    if (!isValidPattern(pattern)) {
      const ready = Promise.reject(new SwitchboardError('INVALID_NAME', `invalid name pattern: ${pattern}`))
      ready.catch(() => {})
      return { ready, stop: async () => {} }
    }
    const listener = service.add(options.kind ?? 'channel', pattern, {
      trusted: true,
      user: () => null,
      notify(name, active) {
        if (listener.removed) return
        try {
          handler(name, { active })
        } catch (err) {
          log.error({ err, name }, 'listen handler threw')
        }
      },
    })
    return {
      ready: service.catchUp(listener),
      stop: async () => service.remove(listener),
    }
  }
}
