import { SwitchboardError } from '../errors.js'
import type { Occupancy, OccupancyEvent, OccupancyKind } from '../engine/occupancy.js'
import type { Logger } from '../log.js'
import { allowAll, type AccessPolicy } from '../permissions/access-policy.js'
import { Listener, type ListenTarget } from './listener.js'

/** A claim this node asked the registry for and has not heard back about. */
interface Attempt {
  readonly listener: Listener
  /** The name was vacated meanwhile: whatever the answer, the listener does not own it. */
  stale: boolean
}

/**
 * Listening on this node. The occupancy registry (engine) says which names are occupied anywhere
 * and arbitrates one owner per name; this service keeps the local listeners, offers each newly
 * occupied (or released) name to the first local listener that matches it and may listen to it,
 * and tells listeners what they won and lost.
 *
 * - occupied → a local listener claims it; the winner (on whichever node) is told `active: true`.
 * - vacated → its owner, if local, is told `active: false`.
 * - a listener leaves → its names are released; every node hears `released` and offers them again,
 *   so another listener takes over and is told `active: true`.
 * - a new listener → claims the occupied names it matches that nobody owns (a late listener).
 */
export class ListenService {
  private readonly listeners = new Map<string, Listener>()
  /** Local owners by `kind:name`. */
  private readonly owners = new Map<string, Listener>()
  private readonly attempts = new Map<string, Set<Attempt>>()
  private seq = 0

  constructor(
    private readonly registry: Occupancy,
    private readonly nodeId: string,
    private readonly policy: AccessPolicy,
    private readonly log: Logger,
  ) {}

  /** Adds a listener; call `catchUp` once its owner knows it exists (after the reply). */
  add(kind: OccupancyKind, pattern: string, target: ListenTarget): Listener {
    const listener = new Listener(`${this.nodeId}/${++this.seq}`, kind, pattern, target)
    this.listeners.set(listener.id, listener)
    return listener
  }

  /** Claims the names already occupied that the listener matches and nobody owns. Never rejects. */
  async catchUp(listener: Listener): Promise<void> {
    let names: string[]
    try {
      names = await this.registry.occupied(listener.kind)
    } catch (err) {
      this.log.error({ err, pattern: listener.pattern }, 'listing occupied names failed')
      return
    }
    for (const name of names) {
      if (listener.removed) return
      if (listener.matcher.matches(name) && this.mayListen(listener, name)) this.claim(listener, name)
    }
  }

  /** Removes a listener; what it owned goes to other listeners. Not told anything itself. */
  remove(listener: Listener): void {
    if (listener.removed) return
    listener.removed = true
    this.listeners.delete(listener.id)
    for (const name of listener.owned) this.release(listener, name)
    listener.owned.clear()
  }

  /** After a token refresh: names the listener's user may no longer listen to end (`active: false`). */
  recheck(listener: Listener): void {
    for (const name of [...listener.owned]) {
      if (this.mayListen(listener, name)) continue
      listener.owned.delete(name)
      this.release(listener, name)
      listener.target.notify(name, false)
    }
  }

  /** Engine events (every node hears every one). */
  onEvent(event: OccupancyEvent): void {
    const key = keyOf(event.kind, event.name)
    if (event.change === 'vacated') {
      for (const attempt of this.attempts.get(key) ?? []) attempt.stale = true
      const owner = this.owners.get(key)
      if (!owner) return
      this.owners.delete(key)
      owner.owned.delete(event.name)
      owner.target.notify(event.name, false)
      return
    }
    if (this.owners.has(key)) return
    this.offer(event.kind, event.name)
  }

  /** Active listeners on this node (for metrics and tests). */
  get size(): number {
    return this.listeners.size
  }

  /** Hands a name to the first local listener that matches it and may have it. */
  private offer(kind: OccupancyKind, name: string): void {
    for (const listener of this.listeners.values()) {
      if (listener.kind !== kind || !listener.matcher.matches(name) || !this.mayListen(listener, name)) continue
      this.claim(listener, name)
      return
    }
  }

  private claim(listener: Listener, name: string): void {
    if (listener.owned.has(name)) return
    const key = keyOf(listener.kind, name)
    const attempt: Attempt = { listener, stale: false }
    let set = this.attempts.get(key)
    if (!set) this.attempts.set(key, (set = new Set()))
    set.add(attempt)
    const done = () => {
      set.delete(attempt)
      if (set.size === 0 && this.attempts.get(key) === set) this.attempts.delete(key)
    }
    this.registry.claim(listener.kind, name, listener.id).then(
      (won) => {
        done()
        if (!won || attempt.stale) return
        if (listener.removed) return this.release(listener, name)
        if (listener.owned.has(name)) return
        listener.owned.add(name)
        this.owners.set(key, listener)
        listener.target.notify(name, true)
      },
      (err: unknown) => {
        done()
        this.log.error({ err, name }, 'listen claim failed')
      },
    )
  }

  private release(listener: Listener, name: string): void {
    const key = keyOf(listener.kind, name)
    if (this.owners.get(key) === listener) this.owners.delete(key)
    this.registry
      .release(listener.kind, name, listener.id)
      .catch((err: unknown) => this.log.error({ err, name }, 'listen release failed'))
  }

  private mayListen(listener: Listener, name: string): boolean {
    const { target } = listener
    if (target.trusted || this.policy === allowAll) return true
    return this.policy.allows({
      kind: listener.kind === 'channel' ? 'channels' : 'records',
      action: 'listen',
      name,
      user: target.user(),
    })
  }
}

function keyOf(kind: OccupancyKind, name: string): string {
  return `${kind}:${name}`
}

/** Refuses a second listener of the same pattern and kind on one connection. */
export function alreadyListening(kind: OccupancyKind, pattern: string): SwitchboardError {
  return new SwitchboardError('ALREADY_LISTENING', `this connection already listens to ${kind} ${pattern}`)
}
