import { GLOBAL_ROOM } from '@switchboard/protocol'
import type { PresenceMember } from '../engine/presence-store.js'
import type { PresenceService } from './presence-service.js'

/** `server.presence`: read-only views (the HTTP API's `GET /api/presence/{channel}` uses `members`). */
export interface ServerPresence {
  /** The members of a channel's presence, or of the global room when no channel is given. */
  members(channel?: string): Promise<PresenceMember[]>
  count(channel?: string): Promise<number>
}

export function serverPresence(service: PresenceService): ServerPresence {
  return {
    members: (channel) => service.members(channel ?? GLOBAL_ROOM),
    count: (channel) => service.count(channel ?? GLOBAL_ROOM),
  }
}
