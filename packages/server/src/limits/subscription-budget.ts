import { SwitchboardError } from '../errors.js'

/**
 * `limits.maxSubscriptionsPerConnection` counts channel and record subscriptions together: each
 * concept takes a unit from the session's budget when it subscribes and returns it when the
 * subscription ends. Keyed weakly, so a closed session needs no cleanup here.
 */
export class SubscriptionBudget {
  private readonly used = new WeakMap<object, number>()

  constructor(readonly max: number) {}

  /** Throws TOO_MANY_SUBSCRIPTIONS when the session has none left. */
  take(session: object): void {
    const used = this.used.get(session) ?? 0
    if (used >= this.max) {
      throw new SwitchboardError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.max} subscriptions per connection`)
    }
    this.used.set(session, used + 1)
  }

  release(session: object, count = 1): void {
    const used = this.used.get(session)
    if (used !== undefined) this.used.set(session, Math.max(0, used - count))
  }
}
