import type { Logger } from '../log.js'
import type { HookEvent, HookEventOf, HookEventType } from './hook-events.js'

export type ServerEventListener<T extends HookEventType> = (event: HookEventOf<T>) => void

/**
 * `server.on(event, fn)`: the hook events for the embedding app, in process. Listeners run
 * synchronously when the event happens; one that throws is logged and does not stop the others.
 */
export class ServerEvents {
  private readonly listeners = new Map<HookEventType, Set<(event: HookEvent) => void>>()

  constructor(private readonly log: Logger) {}

  on<T extends HookEventType>(type: T, listener: ServerEventListener<T>): () => void {
    let set = this.listeners.get(type)
    if (!set) this.listeners.set(type, (set = new Set()))
    const wrapped = listener as (event: HookEvent) => void
    set.add(wrapped)
    return () => void set.delete(wrapped)
  }

  has(type: HookEventType): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0
  }

  emit(event: HookEvent): void {
    const set = this.listeners.get(event.type)
    if (!set) return
    // A Set visits each listener once even when one removes another during the loop.
    for (const listener of set) {
      try {
        listener(event)
      } catch (err) {
        this.log.error({ err, event: event.type }, 'server.on listener threw')
      }
    }
  }
}
