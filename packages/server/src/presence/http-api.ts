import { GLOBAL_ROOM } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'
import { apiRoute, nameAfter, type ApiDeps } from '../http/api-route.js'
import { sendJson, type RouteHandler } from '../http/router.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import { PresenceService } from './presence-service.js'

export const PRESENCE_API_PATH = '/api/presence'

/**
 * `GET /api/presence/{channel}` (and `GET /api/presence` for the global room) →
 * `{ members: [{ userId, clientId, meta }], count }`, under the `presence.read` rule. Rooms
 * configured as counts-only answer `{ count }` alone, as they do over a connection.
 */
export function presenceApi(deps: ApiDeps, presence: PresenceService, policy: AccessPolicy): RouteHandler {
  return apiRoute(deps, 'presence', ['GET'], async ({ res, url, user }) => {
    const room =
      url.pathname === PRESENCE_API_PATH
        ? GLOBAL_ROOM
        : nameAfter(url.pathname, `${PRESENCE_API_PATH}/`, 'presence room')
    PresenceService.check(room)
    if (!policy.allows({ kind: 'presence', action: 'read', name: room, user })) {
      throw new SwitchboardError('PERMISSION_DENIED', `not allowed to read presence of ${room}`)
    }
    if (presence.isCountsOnly(room)) return sendJson(res, 200, { count: await presence.count(room) })
    const members = await presence.members(room)
    sendJson(res, 200, { members, count: members.length })
  })
}
