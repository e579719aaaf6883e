import type { PresenceRoom, SwitchboardError } from '@switchboard/client'

/** The components of one client holding a join on one room, newest last. */
interface Joins {
  holders: Map<symbol, unknown>
  /** The meta last sent, as JSON (undefined: not joined). */
  sent: string | undefined
  leaving: boolean
}

const rooms = new WeakMap<PresenceRoom, Joins>()

/**
 * Counts the joins of one room (a client's room handle is shared): joined with the newest
 * holder's meta while anyone holds it, left one microtask after the last let go (so StrictMode's
 * remount does not leave and join again). Returns the release function.
 */
export function holdJoin(room: PresenceRoom, meta: unknown, onError: (e: SwitchboardError) => void): () => void {
  let joins = rooms.get(room)
  if (!joins) rooms.set(room, (joins = { holders: new Map(), sent: undefined, leaving: false }))
  const state = joins
  const token = Symbol('join')
  state.holders.set(token, meta)
  state.leaving = false
  sync(room, state, onError)
  return () => {
    if (!state.holders.delete(token)) return
    if (state.holders.size > 0) return sync(room, state, onError)
    state.leaving = true
    queueMicrotask(() => {
      if (!state.leaving || state.holders.size > 0 || state.sent === undefined) return
      state.leaving = false
      state.sent = undefined
      room.leave().catch(onError)
    })
  }
}

function sync(room: PresenceRoom, state: Joins, onError: (e: SwitchboardError) => void): void {
  const meta = [...state.holders.values()].pop()
  const json = JSON.stringify(meta ?? null)
  if (json === state.sent) return
  state.sent = json
  room.join(meta ?? null).catch((e: SwitchboardError) => {
    if (state.sent === json) state.sent = undefined
    if (e.code !== 'CLOSED') onError(e) // the app closed the client: nothing to report
  })
}
