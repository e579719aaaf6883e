import type { TransportName } from '@switchboard/client'
import { useCallback, useSyncExternalStore } from 'react'
import { useSwitchboard } from './context.js'

/**
 * `sb.transport`: 'websocket', 'sse' or 'longpoll' while connected, null otherwise; re-rendered
 * when a (re)connection settles on a transport, the client switches (back to WebSocket), or
 * the connection drops.
 */
export function useTransport(): TransportName | null {
  const client = useSwitchboard()
  const subscribe = useCallback(
    (listener: () => void) => {
      const offTransport = client.on('transport', listener)
      const offState = client.on('state', listener)
      return () => {
        offTransport()
        offState()
      }
    },
    [client],
  )
  const read = () => client.transport
  return useSyncExternalStore(subscribe, read, read)
}
