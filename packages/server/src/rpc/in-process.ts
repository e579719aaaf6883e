import type { AuthUser } from '../auth/authenticator.js'
import { SwitchboardError } from '../errors.js'
import type { RpcCall, RpcOutcome } from '../engine/rpc-router.js'

/** What an RPC handler gets besides the args. */
export interface RpcContext {
  /** The caller (`{ id, ...claims }`), or null for anonymous callers and trusted server-side calls. */
  readonly user: AuthUser | null
  /** The caller's client id (its connection), or null for server-side calls. */
  readonly clientId: string | null
  /** The RPC name that was called. */
  readonly name: string
  /** Hands the call to another provider (NO_PROVIDER for the caller if none is left). */
  reject(): void
}

/** A server-side provider: returns (or resolves to) the result; a throw reaches the caller's error. */
export type RpcHandler = (args: unknown, ctx: RpcContext) => unknown

/** Returned by `server.rpc.handle()`, shaped like the client's `sb.rpc.provide()` handle. */
export interface RpcProviderHandle {
  /** Resolves once the handler takes part in routing. */
  readonly ready: Promise<void>
  /** Stops routing new calls to the handler (calls already running finish). */
  stop(): Promise<void>
}

/**
 * Runs an in-process handler for one call and turns whatever happens into one outcome.
 * Never throws. `ctx.reject()` wins over a later return or throw.
 */
export function runHandler(handler: RpcHandler, call: RpcCall, reply: (outcome: RpcOutcome) => void): void {
  let done = false
  const settle = (outcome: RpcOutcome) => {
    if (done) return
    done = true
    reply(outcome)
  }
  const ctx: RpcContext = {
    user: call.user,
    clientId: call.clientId,
    name: call.name,
    reject: () => settle({ kind: 'reject' }),
  }
  let result: unknown
  try {
    result = handler(call.args, ctx)
  } catch (err) {
    settle(errorOutcome(err))
    return
  }
  if (isThenable(result)) {
    result.then(
      (value) => settle({ kind: 'result', value }),
      (err: unknown) => settle(errorOutcome(err)),
    )
  } else {
    settle({ kind: 'result', value: result })
  }
}

/** The provider's message (and catalogue code, for a SwitchboardError), never its stack. */
export function errorOutcome(err: unknown): RpcOutcome {
  if (err instanceof SwitchboardError) return { kind: 'error', message: err.message, code: err.code }
  if (err instanceof Error) return { kind: 'error', message: err.message }
  return { kind: 'error', message: typeof err === 'string' ? err : 'the provider failed' }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
