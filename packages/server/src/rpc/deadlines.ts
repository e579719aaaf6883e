import { systemClock, type Clock } from '../clock.js'

/** Deadlines are rounded up to this many ms: a timeout fires at most this much late. */
const GRAIN_MS = 5

/** Something with a deadline; `slot` is owned by Deadlines. */
export interface Expiring {
  slot: Set<Expiring> | undefined
}

/**
 * Timeouts for many short-lived items with one timer: items live in sets keyed by their
 * deadline rounded up to GRAIN_MS, a set is dropped when its last item is removed, and one
 * timer is armed for the earliest non-empty set. Cheaper per item than setTimeout/clearTimeout
 * (no timer object, no async-hooks bookkeeping) when most items are removed long before their
 * deadline, as RPC calls are.
 */
export class Deadlines<T extends Expiring> {
  private readonly slots = new Map<number, Set<T>>()
  private cancelTimer: (() => void) | undefined
  private armedFor = Infinity

  /** `clock`: deadlines are times of this clock (the server's; a test drives it). */
  constructor(
    private readonly expire: (item: T) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  add(item: T, deadline: number): void {
    const key = Math.ceil(deadline / GRAIN_MS)
    let slot = this.slots.get(key)
    if (!slot) {
      this.slots.set(key, (slot = new Set()))
      if (key < this.armedFor) this.arm(key)
    }
    slot.add(item)
    item.slot = slot as Set<Expiring>
  }

  remove(item: T): void {
    const slot = item.slot as Set<T> | undefined
    if (!slot) return
    item.slot = undefined
    slot.delete(item)
    // Empty sets are dropped when the timer next looks at them (no key lookup here).
  }

  get size(): number {
    let n = 0
    for (const s of this.slots.values()) n += s.size
    return n
  }

  clear(): void {
    this.cancelTimer?.()
    this.cancelTimer = undefined
    this.armedFor = Infinity
    this.slots.clear()
  }

  private arm(key: number): void {
    this.cancelTimer?.()
    this.armedFor = key
    this.cancelTimer = this.clock.schedule(Math.max(0, key * GRAIN_MS - this.clock.now()), this.fire)
  }

  private readonly fire = (): void => {
    this.cancelTimer = undefined
    this.armedFor = Infinity
    const due = Math.floor(this.clock.now() / GRAIN_MS)
    let next = Infinity
    const expired: T[] = []
    for (const [key, slot] of this.slots) {
      if (slot.size === 0) this.slots.delete(key)
      else if (key <= due) {
        this.slots.delete(key)
        for (const item of slot) {
          item.slot = undefined
          expired.push(item)
        }
      } else if (key < next) next = key
    }
    if (next !== Infinity) this.arm(next)
    for (const item of expired) this.expire(item)
  }
}
