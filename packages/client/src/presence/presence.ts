import { GLOBAL_ROOM, isValidName } from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { PresenceRoom, type RoomLink } from './room.js'

interface Waiter {
  resolve(): void
  reject(error: SwitchboardError): void
}

/**
 * Keeps the server in line with what the room handles want: joined (with meta) or not, watched
 * (members or counts) or not. After every (re)connect the wanted state is sent again, so joins
 * and watches survive reconnects; a join made while disconnected resolves once it is restored.
 */
export class Presence implements RoomLink {
  private readonly rooms = new Map<string, PresenceRoom>()
  /** The watch mode the server has (or is being sent) per room. */
  private readonly watching = new Map<string, 'members' | 'counts'>()
  private readonly joinWaiters = new Map<PresenceRoom, Waiter[]>()

  constructor(private readonly conn: Connection) {
    conn.push.psnap = (m) => this.rooms.get(m.r)?.applySnapshot(m.m)
    conn.push.pdiff = (m) => this.rooms.get(m.r)?.applyDiff(m.j, m.l)
    conn.push.pcount = (m) => this.rooms.get(m.r)?.applyCount(m.n)
    conn.push.pend = (m) => {
      const room = this.rooms.get(m.r)
      if (!room) return
      if (m.what === 'join') room.joinedWith = undefined
      else {
        this.watching.delete(m.r)
        room.reset()
      }
      room.failed(new SwitchboardError(m.code, m.msg))
    }
    conn.onRestore(() => this.restore())
    conn.on('state', (s) => {
      if (s !== 'closed') return
      this.watching.clear()
      const error = new SwitchboardError('CLOSED', 'the client is closed')
      for (const room of [...this.joinWaiters.keys()]) this.settleJoin(room, error)
    })
  }

  /** The handle for a channel's presence, or the global room's when no channel is given. */
  room(channel?: string): PresenceRoom {
    if (channel !== undefined && !isValidName(channel))
      throw new SwitchboardError('INVALID_NAME', `invalid channel name: ${channel}`)
    const name = channel ?? GLOBAL_ROOM
    let room = this.rooms.get(name)
    if (!room) this.rooms.set(name, (room = new PresenceRoom(channel ?? null, name, this)))
    return room
  }

  join(room: PresenceRoom): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const list = this.joinWaiters.get(room) ?? []
      list.push({ resolve, reject })
      this.joinWaiters.set(room, list)
    })
    if (this.conn.state === 'connected') this.sendJoin(room)
    return done
  }

  async leave(room: PresenceRoom): Promise<void> {
    this.settleJoin(room) // a join not confirmed yet is superseded by this leave
    if (this.conn.state !== 'connected') return // the server forgets this connection's joins anyway
    await this.conn.request({ t: 'pleave', r: room.room }).catch((e: SwitchboardError) => {
      if (e.code !== 'DISCONNECTED') throw e
    })
  }

  watchChanged(room: PresenceRoom): void {
    if (this.conn.state === 'connected') this.syncWatch(room)
  }

  private restore(): void {
    this.watching.clear()
    for (const room of this.rooms.values()) {
      if (room.joinedWith) this.sendJoin(room)
      this.syncWatch(room)
    }
  }

  private sendJoin(room: PresenceRoom): void {
    const wanted = room.joinedWith
    if (!wanted) return
    const body: { t: 'pjoin'; r: string; m?: unknown } = { t: 'pjoin', r: room.room }
    if (wanted.meta !== null) body.m = wanted.meta
    this.conn.request(body).then(
      () => {
        if (room.joinedWith === wanted) this.settleJoin(room)
      },
      (error: SwitchboardError) => {
        if (error.code === 'DISCONNECTED' || error.code === 'CLOSED') return // restored on reconnect
        if (room.joinedWith === wanted) room.joinedWith = undefined
        this.settleJoin(room, error)
        room.failed(error)
      },
    )
  }

  private settleJoin(room: PresenceRoom, error?: SwitchboardError): void {
    const waiters = this.joinWaiters.get(room)
    if (!waiters) return
    this.joinWaiters.delete(room)
    for (const w of waiters) {
      if (error) w.reject(error)
      else w.resolve()
    }
  }

  /** Sends pwatch/punwatch when the wanted mode differs from what the server has. */
  private syncWatch(room: PresenceRoom): void {
    const wanted = room.watchMode
    const current = this.watching.get(room.room)
    if (wanted === current || (wanted === null && current === undefined)) return
    if (wanted === null) {
      this.watching.delete(room.room)
      room.reset()
      this.conn.request({ t: 'punwatch', r: room.room }).catch(() => {})
      return
    }
    this.watching.set(room.room, wanted)
    const body: { t: 'pwatch'; r: string; cnt?: boolean } = { t: 'pwatch', r: room.room }
    if (wanted === 'counts') body.cnt = true
    this.conn.request(body).catch((error: SwitchboardError) => {
      if (error.code === 'DISCONNECTED' || error.code === 'CLOSED') return
      if (this.watching.get(room.room) === wanted) this.watching.delete(room.room)
      room.failed(error)
    })
  }
}
