import { Emitter } from '../emitter.js'
import type { SwitchboardError } from '../errors.js'
import { readySignal } from '../ready.js'

/** What a provider's handler gets besides the args. */
export interface RpcContext {
  /** The caller as the server authenticated it (`{ id, ...claims }`), or null when anonymous. */
  readonly user: Record<string, unknown> | null
  /** The caller's client id (its `sb.clientId`), or null when the server itself called. */
  readonly clientId: string | null
  /** The RPC name that was called. */
  readonly name: string
  /** Hands the call to another provider; the handler's return value is then ignored. */
  reject(): void
}

/** Returns (or resolves to) the result; a throw reaches the caller as an error with its message. */
export type RpcHandler<A = unknown, R = unknown> = (args: A, ctx: RpcContext) => R | Promise<R>

export interface ProviderEvents extends Record<string, unknown> {
  error: SwitchboardError
}

/** The app's handle on a provided name: `ready`, `stop()`. Re-registered after every reconnect. */
export class RpcProvider extends Emitter<ProviderEvents> {
  /** Resolves when the server registered the provider; rejects with e.g. PERMISSION_DENIED. */
  readonly ready: Promise<void>
  private readonly settleReady: (error?: SwitchboardError) => void
  private active = true

  constructor(
    readonly name: string,
    /** @internal */
    readonly handler: RpcHandler,
    private readonly onStop: (provider: RpcProvider) => Promise<void>,
  ) {
    super()
    const signal = readySignal()
    this.ready = signal.ready
    this.settleReady = signal.settle
  }

  /** True until `stop()` or a failure. */
  get providing(): boolean {
    return this.active
  }

  /** Unregisters; resolves when the server confirmed (at once when disconnected). */
  stop(): Promise<void> {
    if (!this.active) return Promise.resolve()
    this.active = false
    return this.onStop(this)
  }

  /** @internal */
  confirm(): void {
    this.settleReady()
  }

  /** @internal Registration failed (or the server refused it after a reconnect). */
  fail(error: SwitchboardError): void {
    this.active = false
    this.settleReady(error)
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }
}
