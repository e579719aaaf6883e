import type { ErrorCode } from '../codes.js'

/**
 * RPC messages. A caller sends `rpc` and gets the provider's result as the `ok` answer (or an
 * `err`). The server hands the call to one provider as an `inv` push; the provider answers it
 * with exactly one of `rpcres`, `rpcerr` or `rpcrej` (no `id`: these are not requests and get
 * no answer). Four frames per call, the minimum for a relayed request/response.
 */

// ---- client → server
/** Call `n` with args `a`. Answered with `ok` (`r` = the result) or `err`. */
export interface RpcCallMessage {
  t: 'rpc'
  id: number
  n: string
  a?: unknown
  /** Timeout in ms; the server applies its default when absent and caps it at its maximum. */
  to?: number
}
/** Register this connection as a provider of `n`. Answered with `ok`. */
export interface ProvideMessage {
  t: 'prov'
  id: number
  n: string
}
/** Stop providing `n`. Invocations already received may still be answered. */
export interface UnprovideMessage {
  t: 'unprov'
  id: number
  n: string
}
/** A provider's result for invocation `c`. */
export interface RpcResultMessage {
  t: 'rpcres'
  c: number
  r?: unknown
}
/** A provider's handler failed: `msg` reaches the caller (never a stack trace). */
export interface RpcErrorMessage {
  t: 'rpcerr'
  c: number
  msg: string
  /** A code from the catalogue the provider chose; the caller gets RPC_ERROR when absent. */
  code?: string
}
/** The provider hands invocation `c` back: the server routes it to another provider. */
export interface RpcRejectMessage {
  t: 'rpcrej'
  c: number
}
export type RpcClientMessage =
  RpcCallMessage | ProvideMessage | UnprovideMessage | RpcResultMessage | RpcErrorMessage | RpcRejectMessage

// ---- server → client
/** An invocation for a provider: answer it with rpcres, rpcerr or rpcrej carrying `c`. */
export interface InvokeMessage {
  t: 'inv'
  /** Invocation id, unique on this connection. */
  c: number
  n: string
  a?: unknown
  /** The caller: `{ id, ...claims }`; absent for anonymous callers. */
  u?: Record<string, unknown>
  /** The caller's client id; absent for server-side calls. */
  ci?: string
}
/** The server stopped routing calls to this connection for `n` (e.g. a token refresh removed a role). */
export interface ProviderEndedMessage {
  t: 'provend'
  n: string
  code: ErrorCode
  msg: string
}
export type RpcServerMessage = InvokeMessage | ProviderEndedMessage
