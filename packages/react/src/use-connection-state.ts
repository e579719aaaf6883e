import type { ConnectionState } from '@switchboard/client'
import { useCallback, useSyncExternalStore } from 'react'
import { useSwitchboard } from './context.js'

/** `sb.state` ('idle', 'connecting', 'connected', 'reconnecting', 'closed'), re-rendered on change. */
export function useConnectionState(): ConnectionState {
  const client = useSwitchboard()
  const subscribe = useCallback((listener: () => void) => client.on('state', listener), [client])
  const read = () => client.state
  return useSyncExternalStore(subscribe, read, read)
}
