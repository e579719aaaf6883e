import type { PresenceRoom } from '@switchboard/client'

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
export function holdJoin(room: PresenceRoom, meta: unknown): () => void {
  let joins = rooms.get(room)
  if (!joins) rooms.set(room, (joins = { holders: new Map(), sent: undefined, leaving: false }))
  const state = joins
  const token = Symbol('join')
  state.holders.set(token, meta)
  state.leaving = false
  sync(room, state)
  return () => {
    if (!state.holders.delete(token)) return
    if (state.holders.size > 0) return sync(room, state)
    state.leaving = true
    queueMicrotask(() => {
      if (!state.leaving || state.holders.size > 0 || state.sent === undefined) return
      state.leaving = false
      state.sent = undefined
      room.leave().catch(() => {}) // only fails when the connection is gone, which forgets the join anyway
    })
  }
}

function sync(room: PresenceRoom, state: Joins): void {
  const meta = [...state.holders.values()].pop()
  const json = JSON.stringify(meta ?? null)
  if (json === state.sent) return
  state.sent = json
  // A refused join is reported on the room's 'error' event (usePresence listens there).
  room.join(meta ?? null).catch(() => {
    if (state.sent === json) state.sent = undefined
  })
}
