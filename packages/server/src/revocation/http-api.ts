import { isPlainObject } from '@switchboard/protocol'
import { isBackend } from '../auth/backend.js'
import { SwitchboardError } from '../errors.js'
import { apiRoute, type ApiDeps } from '../http/api-route.js'
import { sendJson, type RouteHandler } from '../http/router.js'

export const REVOKE_API_PATH = '/api/revoke'

/**
 * `POST /api/revoke` `{ "userId": "…" }` with an API key → `{ "revoked": "…" }`: ends that user's
 * sessions on every node and refuses the credentials they had (see RevokedUsers).
 */
export function revokeApi(deps: ApiDeps, revoke: (userId: string) => Promise<void>): RouteHandler {
  return apiRoute(deps, 'revoke', ['POST'], async ({ res, user, body }) => {
    if (!isBackend(user)) throw new SwitchboardError('PERMISSION_DENIED', 'revoking access needs an API key')
    const b = await body()
    if (!isPlainObject(b) || typeof b.userId !== 'string' || b.userId === '' || Object.keys(b).length !== 1) {
      throw new SwitchboardError('INVALID_MESSAGE', 'expected a JSON body { "userId": "..." }')
    }
    await revoke(b.userId)
    sendJson(res, 200, { revoked: b.userId })
  })
}
