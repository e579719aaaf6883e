import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { OccupancyObserver } from '../core/occupancy-observer.js'
import type { Occupancy, OccupancyEvent, OccupancyHandler, OccupancyKind } from '../engine/occupancy.js'

/** A cluster-wide occupancy change that this node caused (hooks and `server.on` report these). */
export interface OccupancyChange {
  type: 'occupied' | 'vacated'
  kind: OccupancyKind
  name: string
}

/**
 * This node's side of occupancy. Channels and records report local first/last subscribers; this
 * holds the name in the engine's registry while it has local subscribers, plus a grace period
 * (`hooks.graceMs`) after the last one left, so a name that goes empty and busy again within the
 * grace produces no vacated/occupied pair anywhere (listeners, hooks, other nodes).
 *
 * The node whose `enter`/`leave` changed the cluster-wide state reports that change once
 * (`onChange`), so hooks fire on exactly one node. Engine events (every node hears them) go to
 * `onEvent` subscribers: the listeners.
 */
export class NodeOccupancy implements OccupancyObserver, OccupancyHandler {
  /** Names whose last local subscriber left, waiting out the grace period. */
  private readonly grace = new Map<string, () => void>()
  private readonly pending = new Set<Promise<unknown>>()
  private readonly changeListeners: ((change: OccupancyChange) => void)[] = []
  private readonly eventListeners: ((event: OccupancyEvent) => void)[] = []

  constructor(
    private readonly engine: Occupancy,
    private readonly clock: Clock,
    private readonly graceMs: number,
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    return this.engine.start(this)
  }

  onChange(listener: (change: OccupancyChange) => void): void {
    this.changeListeners.push(listener)
  }

  onEvent(listener: (event: OccupancyEvent) => void): void {
    this.eventListeners.push(listener)
  }

  // ---- OccupancyObserver (channels, records) ---------------------------------------------

  occupied(kind: OccupancyKind, name: string): void {
    const key = keyOf(kind, name)
    const timer = this.grace.get(key)
    if (timer !== undefined) {
      // Busy again within the grace period: this node never let go of the name.
      timer()
      this.grace.delete(key)
      return
    }
    this.track(this.engine.enter(kind, name), 'occupied', kind, name)
  }

  vacated(kind: OccupancyKind, name: string): void {
    if (this.graceMs <= 0) return this.leave(kind, name)
    const key = keyOf(kind, name)
    this.grace.set(
      key,
      this.clock.schedule(this.graceMs, () => {
        this.grace.delete(key)
        this.leave(kind, name)
      }),
    )
  }

  // ---- OccupancyHandler (engine) ---------------------------------------------------------

  onOccupancy(event: OccupancyEvent): void {
    for (const listener of this.eventListeners) listener(event)
  }

  onCaused(event: OccupancyEvent): void {
    if (event.change === 'released') return
    this.report({ type: event.change, kind: event.kind, name: event.name })
  }

  /** Ends every grace period now and waits for the engine calls in flight (server shutdown). */
  async flush(): Promise<void> {
    for (const [key, timer] of this.grace) {
      timer()
      this.grace.delete(key)
      const [kind, name] = splitKey(key)
      this.leave(kind, name)
    }
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  private leave(kind: OccupancyKind, name: string): void {
    this.track(this.engine.leave(kind, name), 'vacated', kind, name)
  }

  private track(call: Promise<boolean>, type: OccupancyChange['type'], kind: OccupancyKind, name: string): void {
    const done = call.then(
      (changed) => {
        if (changed) this.report({ type, kind, name })
      },
      (err: unknown) =>
        this.log.error({ err, kind, name }, `occupancy ${type === 'occupied' ? 'enter' : 'leave'} failed`),
    )
    this.pending.add(done)
    void done.finally(() => this.pending.delete(done))
  }

  private report(change: OccupancyChange): void {
    for (const listener of this.changeListeners) listener(change)
  }
}

function keyOf(kind: OccupancyKind, name: string): string {
  return `${kind}:${name}`
}

function splitKey(key: string): [OccupancyKind, string] {
  const i = key.indexOf(':')
  return [key.slice(0, i) as OccupancyKind, key.slice(i + 1)]
}
