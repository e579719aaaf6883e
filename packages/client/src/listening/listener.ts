import type { ListenKind } from '@switchboard/protocol'
import { Emitter } from '../emitter.js'
import type { SwitchboardError } from '../errors.js'
import { readySignal } from '../ready.js'

/** Told when a matching name becomes active for this listener and when it stops being active. */
export type ListenHandler = (name: string, state: { active: boolean }) => void

export interface ListenOptions {
  /** Channel subscriptions (default) or record subscriptions. */
  kind?: ListenKind
}

export interface ListenerEvents extends Record<string, unknown> {
  error: SwitchboardError
}

/**
 * The app's handle on `sb.listen()`: `ready`, `stop()`, the names active for it now. Registered
 * again after every reconnect; a dropped connection ends every active name (`active: false`),
 * and the server tells the listener again which names it has once it is back.
 */
export class Listener extends Emitter<ListenerEvents> {
  /** Resolves when the server registered the listener; rejects with e.g. PERMISSION_DENIED. */
  readonly ready: Promise<void>
  readonly #settleReady: (error?: SwitchboardError) => void
  readonly #activeNames = new Set<string>()
  #running = true

  constructor(
    readonly pattern: string,
    readonly kind: ListenKind,
    private readonly handler: ListenHandler,
    private readonly onStop: (listener: Listener) => Promise<void>,
  ) {
    super()
    const signal = readySignal()
    this.ready = signal.ready
    this.#settleReady = signal.settle
  }

  /** True until `stop()` or a failure. */
  get listening(): boolean {
    return this.#running
  }

  /** The names this listener is active for now. */
  get active(): ReadonlySet<string> {
    return this.#activeNames
  }

  /** Stops; names it had go to other listeners. The handler hears nothing more. */
  stop(): Promise<void> {
    if (!this.#running) return Promise.resolve()
    this.#running = false
    this.#activeNames.clear()
    return this.onStop(this)
  }

  /** @internal */
  confirm(): void {
    this.#settleReady()
  }

  /** @internal The server says `name` is active for this listener, or no longer. */
  apply(name: string, active: boolean): void {
    if (!this.#running || this.#activeNames.has(name) === active) return
    if (active) this.#activeNames.add(name)
    else this.#activeNames.delete(name)
    try {
      this.handler(name, { active })
    } catch (err) {
      // The app's handler failing must not break the connection's message loop.
      setTimeout(() => {
        throw err
      })
    }
  }

  /** @internal The connection dropped: whatever was active is not any more. */
  deactivateAll(): void {
    for (const name of [...this.#activeNames]) this.apply(name, false)
  }

  /** @internal Registration failed (or the server ended the listener). */
  fail(error: SwitchboardError): void {
    this.deactivateAll()
    this.#running = false
    this.#settleReady(error)
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }
}
