import type { PublicationInfo, Switchboard, SwitchboardError } from '@switchboard/client'
import { useMemo, useSyncExternalStore } from 'react'
import { useSwitchboard } from './context.js'
import { useLatest } from './latest.js'
import { leasedStore } from './leased-store.js'

export interface UseSubscriptionOptions {
  /** After a reconnect, receive what was published meanwhile (from the channel's history). */
  recover?: boolean
  /** Called after a recovery: `complete: false` means the history window passed (resync). */
  onRecovered?: (result: { missed: number; complete: boolean }) => void
}

export interface SubscriptionState {
  /** The server confirmed the subscription. */
  readonly ready: boolean
  /** Why it failed or was ended by the server (e.g. PERMISSION_DENIED). */
  readonly error: SwitchboardError | null
}

const INITIAL: SubscriptionState = { ready: false, error: null }

/**
 * Subscribes to `channel` while mounted and calls `handler` with every publication; the handler
 * may change between renders without resubscribing. Components subscribed to one channel share
 * one server subscription.
 */
export function useSubscription<T = unknown>(
  channel: string,
  handler: (data: T, info: PublicationInfo) => void,
  options: UseSubscriptionOptions = {},
): SubscriptionState {
  const client = useSwitchboard()
  const callbacks = useLatest({ handler, onRecovered: options.onRecovered })
  const recover = options.recover === true
  const store = useMemo(
    () =>
      subscriptionStore(
        client,
        channel,
        recover,
        (data, info) => callbacks.current.handler(data as T, info),
        (result) => callbacks.current.onRecovered?.(result),
      ),
    [client, channel, recover, callbacks],
  )
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}

function subscriptionStore(
  client: Switchboard,
  channel: string,
  recover: boolean,
  handler: (data: unknown, info: PublicationInfo) => void,
  onRecovered: (result: { missed: number; complete: boolean }) => void,
) {
  return leasedStore<SubscriptionState>(INITIAL, (update) => {
    const sub = client.subscribe(channel, handler, { recover })
    const fail = (error: SwitchboardError) => update({ ready: false, error })
    const stopErrors = sub.on('error', fail)
    const stopRecovered = sub.on('recovered', onRecovered)
    sub.ready.then(() => update({ ready: true, error: null }), fail)
    return () => {
      stopErrors()
      stopRecovered()
      sub.unsubscribe()
    }
  })
}
