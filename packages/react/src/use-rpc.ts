import type { CallOptions } from '@switchboard/client'
import { useCallback } from 'react'
import { useSwitchboard } from './context.js'

/** Calls `name` on one of its providers; the function stays the same while the name does. */
export type RpcCaller<A, R> = (args: A, options?: CallOptions) => Promise<R>

/** `const add = useRpc<{ a: number; b: number }, number>('math/add'); await add({ a: 1, b: 2 })`. */
export function useRpc<A = unknown, R = unknown>(name: string): RpcCaller<A, R> {
  const client = useSwitchboard()
  return useCallback((args: A, options?: CallOptions) => client.rpc.call<R>(name, args, options), [client, name])
}
