import { compilePattern, type ListenKind, type NamePattern } from '@switchboard/protocol'
import type { AuthUser } from '../auth/authenticator.js'

/** Where a listener's news goes: a connection (`lact` pushes) or an in-process handler. */
export interface ListenTarget {
  /** The user whose `listen` rules decide which names it may take; null when trusted. */
  user(): AuthUser | null
  /** In-process listeners skip the rules. */
  readonly trusted: boolean
  notify(name: string, active: boolean): void
}

/** One listener on this node: a pattern of one kind, and the names it is active for. */
export class Listener {
  readonly matcher: NamePattern
  /** Names this listener was told are active (and owns in the registry). */
  readonly owned = new Set<string>()
  removed = false

  constructor(
    /** Unique cluster-wide: the registry arbitrates claims by it. */
    readonly id: string,
    readonly kind: ListenKind,
    readonly pattern: string,
    readonly target: ListenTarget,
  ) {
    this.matcher = compilePattern(pattern)
  }
}
