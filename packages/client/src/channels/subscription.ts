import type { PublisherInfo } from '@switchboard/protocol'
import { Emitter } from '../emitter.js'
import type { SwitchboardError } from '../errors.js'
import { readySignal } from '../ready.js'

export interface PublicationInfo {
  channel: string
  offset: number
  epoch: string
  publisher?: PublisherInfo
}

export type PublicationHandler = (data: unknown, info: PublicationInfo) => void

export interface SubscribeOptions {
  /** After a reconnect, receive what was published while away (from the channel's history). */
  recover?: boolean
}

export interface SubscriptionEvents extends Record<string, unknown> {
  recovered: { missed: number; complete: boolean }
  error: SwitchboardError
}

/** The app's handle on a subscription: `ready`, `recovered` events, `unsubscribe()`. */
export class Subscription extends Emitter<SubscriptionEvents> {
  /** Resolves when the server confirmed the subscription; rejects with e.g. PERMISSION_DENIED. */
  readonly ready: Promise<void>
  private readonly settleReady: (error?: SwitchboardError) => void
  private active = true

  constructor(
    readonly channel: string,
    readonly handler: PublicationHandler,
    readonly recover: boolean,
    private readonly onUnsubscribe: (sub: Subscription) => void,
  ) {
    super()
    const signal = readySignal()
    this.ready = signal.ready
    this.settleReady = signal.settle
  }

  get subscribed(): boolean {
    return this.active
  }

  unsubscribe(): void {
    if (!this.active) return
    this.active = false
    this.onUnsubscribe(this)
  }

  /** @internal */
  confirm(): void {
    this.settleReady()
  }

  /** @internal The subscription failed or was ended by the server. */
  fail(error: SwitchboardError): void {
    this.active = false
    this.settleReady(error)
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }

  /** @internal */
  recovered(missed: number, complete: boolean): void {
    this.emit('recovered', { missed, complete })
  }
}
