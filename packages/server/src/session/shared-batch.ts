import { EncodedFrame } from '../transports/transport.js'

/**
 * The batch frame built last in this turn, for the next session to reuse: in a fan-out every
 * subscriber that queued the same frames in one turn (several publications of a channel, a
 * burst of record changes) would otherwise join and frame the same batch text again. Frames are
 * compared by identity, so a reuse is exact. One slot, cleared at the end of every flush turn,
 * so it never keeps a frame alive past its turn.
 */
export class SharedBatch {
  private first: EncodedFrame | undefined
  private rest: EncodedFrame[] = []
  private frame: EncodedFrame | undefined

  /** The batch of `first` followed by `rest`, if the last one built was of exactly those frames. */
  find(first: EncodedFrame, rest: readonly EncodedFrame[]): EncodedFrame | undefined {
    if (first !== this.first || rest.length !== this.rest.length) return undefined
    for (let i = 0; i < rest.length; i++) if (rest[i] !== this.rest[i]) return undefined
    return this.frame
  }

  remember(first: EncodedFrame, rest: readonly EncodedFrame[], frame: EncodedFrame): void {
    this.first = first
    this.rest.length = 0
    for (let i = 0; i < rest.length; i++) this.rest.push(rest[i] as EncodedFrame)
    this.frame = frame
  }

  clear(): void {
    if (this.first === undefined) return
    this.first = this.frame = undefined
    this.rest.length = 0
  }
}
