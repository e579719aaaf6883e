import type { AuthUser } from '../auth/authenticator.js'

/** A call as it travels between nodes. `id` is unique cluster-wide (it carries the node's prefix). */
export interface RpcCall {
  id: string
  name: string
  args: unknown
  /** The caller, for `ctx.user`; null when anonymous or a trusted server-side call. */
  user: AuthUser | null
  /** The caller's connection (client id), or null for server-side calls. */
  clientId: string | null
  /** When the caller stops waiting (epoch ms); answers after it are dropped. */
  deadline: number
}

/**
 * What became of a call at one provider.
 * - `result` / `error`: final; `error.code` is a catalogue code the provider chose, if any.
 * - `reject`: the provider handed the call back (`ctx.reject()`); try another provider.
 * - `unavailable`: the provider was gone before it received the call; try another provider.
 * - `lost`: the provider went away after it received the call; it may or may not have run, so
 *   the call fails (PROVIDER_LOST) instead of being retried elsewhere.
 */
export type RpcOutcome =
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; message: string; code?: string }
  | { kind: 'reject' }
  | { kind: 'unavailable' }
  | { kind: 'lost' }

/** Callbacks a router makes into core. The router never imports the server or sees sessions. */
export interface RpcRouterHandler {
  /**
   * A call for a provider registered on this node. Core must eventually call `reply` (once;
   * later calls are ignored): with the provider's answer, or `unavailable` if it no longer
   * knows that provider, or `lost` if the provider goes away before answering.
   */
  onInvoke(providerId: string, call: RpcCall, reply: (outcome: RpcOutcome) => void): void
  /** The outcome of a call this node delivered with `deliver`. */
  onOutcome(callId: string, outcome: RpcOutcome): void
}

/**
 * The cross-node seam for RPC (memory now, Redis next). It knows which provider ids offer
 * which names and where each lives, and carries calls to providers and outcomes back. Core
 * keeps everything about sessions: provider ids are opaque strings, unique cluster-wide.
 *
 * Invariants (checked by the conformance suite in rpc-router.contract.ts):
 * - `register` is idempotent; once it resolves, `pick` (on every node) may return the id for
 *   that name. Once `unregister` resolves, `pick` no longer returns it (on this node at once;
 *   on other nodes within the implementation's propagation delay).
 * - `pick(name, exclude)` resolves to a registered provider of `name` not in `exclude`, or null
 *   when there is none. Policy: round-robin over the providers of a name — over consecutive
 *   picks with the same `exclude`, every eligible provider is returned once before any is
 *   returned twice. In-process providers (server handlers) are providers like any other.
 * - `deliver(providerId, call)` never throws. The call reaches `onInvoke` on the provider's
 *   node exactly once; if the provider is not registered (any more), the origin instead gets
 *   `onOutcome(call.id, { kind: 'unavailable' })`.
 * - Every `reply` from `onInvoke` reaches `onOutcome(call.id, …)` on the node that delivered
 *   the call, exactly once (a second reply for the same delivery is dropped), asynchronously
 *   or not — core must not rely on either. Replies given on one node reach an origin node in
 *   the order they were given.
 * - `unregisterAll(providerIds)` is `unregister` of every name those providers offer (a node
 *   dropping all providers of a closed connection in one step).
 */
export interface RpcRouter {
  start(handler: RpcRouterHandler): Promise<void>
  register(name: string, providerId: string): Promise<void>
  unregister(name: string, providerId: string): Promise<void>
  unregisterAll(providerId: string): Promise<void>
  pick(name: string, exclude: ReadonlySet<string> | undefined): Promise<string | null>
  deliver(providerId: string, call: RpcCall): void
  /** Number of providers of `name` (all nodes); for metrics and the admin view. */
  providerCount(name: string): Promise<number>
  close(): Promise<void>
}

/**
 * Optional capability of routers whose registry is local to the node (the memory router, or a
 * cluster router with a replicated registry): `pick` without a promise, the same policy and the
 * same answer `pick` would give. Core uses it on the hot path when the router has it.
 */
export interface SyncRpcPicker {
  pickNow(name: string, exclude: ReadonlySet<string> | undefined): string | null
}

export function canPickNow(router: RpcRouter): router is RpcRouter & SyncRpcPicker {
  return typeof (router as RpcRouter & Partial<SyncRpcPicker>).pickNow === 'function'
}
