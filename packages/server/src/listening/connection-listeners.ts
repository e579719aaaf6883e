import type { ListenKind } from '@switchboard/protocol'
import type { SubscriptionBudget } from '../limits/subscription-budget.js'
import { allowAll, type AccessPolicy } from '../permissions/access-policy.js'
import type { Session } from '../session/session.js'
import { alreadyListening, type ListenService } from './listen-service.js'
import type { Listener } from './listener.js'

/**
 * The listeners of client connections, keyed by session (one per pattern and kind). Each takes
 * a unit of `limits.maxSubscriptionsPerConnection`, like a subscription.
 */
export class ConnectionListeners {
  private readonly bySession = new Map<Session, Map<string, Listener>>()

  constructor(
    private readonly service: ListenService,
    private readonly budget: SubscriptionBudget,
    private readonly policy: AccessPolicy,
  ) {}

  /** Throws ALREADY_LISTENING or TOO_MANY_SUBSCRIPTIONS. */
  listen(session: Session, kind: ListenKind, pattern: string): Listener {
    let mine = this.bySession.get(session)
    const key = `${kind} ${pattern}`
    if (mine?.has(key)) throw alreadyListening(kind, pattern)
    this.budget.take(session)
    if (!mine) this.bySession.set(session, (mine = new Map()))
    const listener = this.service.add(kind, pattern, {
      trusted: false,
      user: () => session.user,
      notify: (name, active) => session.send({ t: 'lact', k: kind, p: pattern, n: name, a: active }),
    })
    mine.set(key, listener)
    return listener
  }

  /** Idempotent: stopping a listener that is not there is not an error. */
  unlisten(session: Session, kind: ListenKind, pattern: string): void {
    const mine = this.bySession.get(session)
    const key = `${kind} ${pattern}`
    const listener = mine?.get(key)
    if (!mine || !listener) return
    mine.delete(key)
    if (mine.size === 0) this.bySession.delete(session)
    this.budget.release(session)
    this.service.remove(listener)
  }

  removeSession(session: Session): void {
    const mine = this.bySession.get(session)
    if (!mine) return
    this.bySession.delete(session)
    for (const listener of mine.values()) this.service.remove(listener)
  }

  /**
   * After the session's user changed (token refresh): listeners the new user may not hold end
   * with `lend`; names the others may no longer have are given up (`active: false`).
   */
  recheck(session: Session): void {
    const mine = this.bySession.get(session)
    if (!mine || this.policy === allowAll) return
    for (const listener of [...mine.values()]) {
      const { kind, pattern } = listener
      const allowed = this.policy.allows({
        kind: kind === 'channel' ? 'channels' : 'records',
        action: 'listen',
        name: pattern,
        user: session.user,
      })
      if (allowed) {
        this.service.recheck(listener)
        continue
      }
      this.unlisten(session, kind, pattern)
      session.send({
        t: 'lend',
        k: kind,
        p: pattern,
        code: 'PERMISSION_DENIED',
        msg: `no longer allowed to listen to ${pattern}`,
      })
    }
  }
}
