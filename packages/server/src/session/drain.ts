import { CloseCode } from '@switchboard/protocol'
import type { Clock } from '../clock.js'

/** What a drain needs of a session: tell it when to come back, then close it. */
export interface Drainable {
  send(message: { t: 'drain'; after: number }): void
  close(code: number, reason: string): void
}

/** A reconnect hint is never longer than this, whatever the window. */
export const MAX_RECONNECT_HINT_MS = 1000

/**
 * The hint a client told to go in a slot of `slotMs` gets: uniform within its slot (at most
 * MAX_RECONNECT_HINT_MS). The window already spreads the moves; the hint only smooths them
 * inside each slot, so a client's reconnect stays within a slot of its close and the whole move
 * ends within the window plus one slot, not the window plus a second.
 */
export function reconnectHint(slotMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(MAX_RECONNECT_HINT_MS, slotMs))
}

/**
 * When each of `n` clients is told to go, in ms from the start of a drain of `windowMs`:
 * client i at a random moment of the i-th of n equal slots (stratified jitter). Nobody can
 * predict its moment, and yet the closes are spread evenly: by any time t, ⌊t·n/windowMs⌋ of
 * them (never more than one further) have gone, so the reconnect rate the other nodes see is
 * n/windowMs. Ascending.
 */
export function drainTimes(n: number, windowMs: number, random: () => number = Math.random): number[] {
  const slot = n === 0 ? 0 : windowMs / n
  return Array.from({ length: n }, (_, i) => Math.floor((i + random()) * slot))
}

/**
 * Drains a set of sessions: each, at its moment in the window (`drainTimes`, in a random order),
 * gets a `drain` message with its reconnect hint (`reconnectHint`) and is closed with 4008 DRAINING. One timer at a
 * time on the server's clock, so a test moves through the window with a ManualClock.
 */
export class SessionDrain {
  private readonly order: Drainable[]
  private readonly times: number[]
  private readonly slotMs: number
  private next = 0
  private start = 0
  private cancelTimer: (() => void) | undefined
  private finish: (() => void) | undefined

  constructor(
    sessions: Iterable<Drainable>,
    private readonly clock: Clock,
    windowMs: number,
    private readonly random: () => number = Math.random,
  ) {
    this.order = shuffle([...sessions], random)
    this.times = drainTimes(this.order.length, windowMs, random)
    this.slotMs = this.order.length === 0 ? 0 : windowMs / this.order.length
  }

  /** Resolves once every session was told to go (at the latest when the window ends). */
  run(): Promise<void> {
    this.start = this.clock.now()
    return new Promise<void>((resolve) => {
      this.finish = resolve
      this.tick()
    })
  }

  /** Stops telling sessions to go (the rest are closed another way); `run` resolves. */
  stop(): void {
    this.cancelTimer?.()
    this.cancelTimer = undefined
    this.finish?.()
  }

  private readonly tick = (): void => {
    this.cancelTimer = undefined
    const elapsed = this.clock.now() - this.start
    while (this.next < this.order.length && (this.times[this.next] as number) <= elapsed) {
      const session = this.order[this.next++] as Drainable
      session.send({ t: 'drain', after: reconnectHint(this.slotMs, this.random) })
      session.close(CloseCode.DRAINING, 'the server is draining; reconnect elsewhere')
    }
    if (this.next === this.order.length) {
      this.finish?.()
      return
    }
    this.cancelTimer = this.clock.schedule((this.times[this.next] as number) - elapsed, this.tick)
  }
}

/** Fisher–Yates: which client goes first says nothing about when it connected. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

/** `close({ drain })`: `true` drains over the configured window, `{ windowMs }` over that one. */
export type DrainOption = boolean | { windowMs: number }

/** The window a close drains over, or undefined when it closes everyone at once. */
export function drainWindowMs(option: DrainOption | undefined, configuredMs: number): number | undefined {
  if (option === undefined || option === false) return undefined
  return option === true ? configuredMs : Math.max(0, option.windowMs)
}
