import type { RpcOutcome } from '../engine/rpc-router.js'

/** An invocation handed to a provider connection and not answered yet. */
export interface Invocation {
  reply: (outcome: RpcOutcome) => void
  /** After this (epoch ms) nobody waits for the answer any more; the entry may be dropped. */
  deadline: number
}

/** What the RPC service keeps on a session (keyed by session). */
export interface RpcSessionState {
  /** Names this connection provides. */
  readonly provided: Set<string>
  /** Invocations sent to this connection, by invocation id (`c`). */
  readonly invocations: Map<number, Invocation>
  lastInvocation: number
}
