import type { PresenceMember, PresenceRoom, SwitchboardError } from '@switchboard/client'
import { useEffect, useMemo, useSyncExternalStore } from 'react'
import { useSwitchboard } from './context.js'
import { useLatest } from './latest.js'
import { leasedStore } from './leased-store.js'
import { holdJoin } from './presence-joins.js'

export interface UsePresenceOptions {
  /** Join the room while mounted (default true); false only watches its members. */
  join?: boolean
  /** A refused join or watch (PERMISSION_DENIED, …). */
  onError?: (error: SwitchboardError) => void
}

const NOBODY: PresenceMember[] = []

/**
 * The members of a channel's presence room (`null`: the global room), kept current. Joins with
 * `meta` while mounted unless `join: false`; a change of `meta` updates it. Components of one
 * client joined to one room are one member: it leaves when the last of them unmounts, with the
 * meta of the most recent one.
 */
export function usePresence(
  channel: string | null,
  meta?: unknown,
  options: UsePresenceOptions = {},
): PresenceMember[] {
  const client = useSwitchboard()
  const onError = useLatest(options.onError)
  const room = useMemo(() => client.presence(channel ?? undefined), [client, channel])
  const store = useMemo(
    () =>
      leasedStore<PresenceMember[]>(NOBODY, (update) => {
        const stopErrors = room.on('error', (e) => onError.current?.(e))
        const stopWatching = room.subscribe(update)
        return () => {
          stopWatching()
          stopErrors()
        }
      }),
    [room, onError],
  )
  const joining = options.join !== false
  const metaKey = JSON.stringify(meta ?? null)
  useEffect(() => {
    if (!joining) return
    return holdJoin(room, JSON.parse(metaKey) as unknown)
  }, [room, joining, metaKey])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}

export type { PresenceMember, PresenceRoom }
