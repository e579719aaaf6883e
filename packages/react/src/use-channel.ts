import type { PublicationInfo, Switchboard, SwitchboardError } from '@switchboard/client'
import { useMemo, useSyncExternalStore } from 'react'
import { useSwitchboard } from './context.js'
import { useLatest } from './latest.js'
import { leasedStore } from './leased-store.js'
import { mergeMessages, type ChannelMessage } from './merge-messages.js'

export interface UseChannelOptions {
  /** How many messages to keep: the newest ones (default 100). */
  limit?: number
  /** A refused subscription or history read (PERMISSION_DENIED, …). */
  onError?: (error: SwitchboardError) => void
}

const NONE: ChannelMessage<never>[] = []

/**
 * The channel's latest messages, oldest first and newest last: its history when mounted, then
 * every live publication, and what was missed during a disconnection (a recovering
 * subscription; when the history window passed, history is read again).
 */
export function useChannel<T = unknown>(channel: string, options: UseChannelOptions = {}): ChannelMessage<T>[] {
  const client = useSwitchboard()
  const onError = useLatest(options.onError)
  const limit = options.limit ?? 100
  const store = useMemo(
    () => channelStore<T>(client, channel, limit, (e) => onError.current?.(e)),
    [client, channel, limit, onError],
  )
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}

function channelStore<T>(
  client: Switchboard,
  channel: string,
  limit: number,
  onError: (error: SwitchboardError) => void,
) {
  return leasedStore<ChannelMessage<T>[]>(NONE, (update, current) => {
    let live = true
    const add = (incoming: ChannelMessage<T>[], replace = false) => {
      if (live) update(mergeMessages(replace ? [] : current(), incoming, limit))
    }
    const readHistory = (replace: boolean) =>
      client.history(channel, { limit }).then(
        (h) =>
          add(
            h.publications.map((p) => ({ channel, data: p.data as T, offset: p.offset, epoch: p.epoch })),
            replace,
          ),
        (e: SwitchboardError) => live && e.code !== 'CLOSED' && onError(e),
      )
    const sub = client.subscribe(
      channel,
      (data: unknown, info: PublicationInfo) => add([{ ...info, data: data as T }]),
      { recover: true },
    )
    const stopErrors = sub.on('error', onError)
    // Past the history window some messages are gone: show what history holds now.
    const stopRecovered = sub.on('recovered', ({ complete }) => complete || void readHistory(true))
    // After the subscription, so nothing published in between is missed (duplicates merge away).
    // A refusal arrives as the subscription's 'error' event.
    sub.ready.then(
      () => readHistory(false),
      () => {},
    )
    return () => {
      live = false
      stopErrors()
      stopRecovered()
      sub.unsubscribe()
    }
  })
}

export type { ChannelMessage }
