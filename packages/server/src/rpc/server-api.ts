import type { AuthUser } from '../auth/authenticator.js'
import type { RpcHandler, RpcProviderHandle } from './in-process.js'
import type { RpcService } from './rpc-service.js'

export interface ServerCallOptions {
  /** The caller as handlers see it in `ctx.user`; null (default) for a trusted server-side call. */
  user?: AuthUser | null
  /** Defaults to `rpc.defaultTimeoutMs`, capped at `rpc.maxTimeoutMs`. */
  timeoutMs?: number
}

/** `server.rpc`: in-process providers and calls from the server side (the HTTP API uses `call`). */
export interface ServerRpc {
  /** Provides `name` from this process; it takes part in routing like client providers. */
  handle(name: string, handler: RpcHandler): RpcProviderHandle
  /**
   * Calls `name` like a client would, routed to any provider. Permission rules are not checked
   * here: callers acting for a user (the HTTP API) check `rpc.call` before.
   */
  call<R = unknown>(name: string, args?: unknown, options?: ServerCallOptions): Promise<R>
}

export function serverRpc(service: RpcService): ServerRpc {
  return {
    handle: (name, handler) => service.handle(name, handler),
    call: <R>(name: string, args?: unknown, options: ServerCallOptions = {}) =>
      service.callAsync(name, args, options.user ?? null, options.timeoutMs) as Promise<R>,
  }
}
