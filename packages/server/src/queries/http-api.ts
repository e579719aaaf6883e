import { SwitchboardError } from '../errors.js'
import { apiRoute, type ApiDeps } from '../http/api-route.js'
import { sendJson, type RouteHandler } from '../http/router.js'
import { isBackend } from '../auth/backend.js'
import type { QueryService } from './query-service.js'

export const QUERY_API_PATH = '/api/query'

/**
 * `POST /api/query` `{ collection, where?, orderBy?, limit? }` → `{ rows: [{ name, data, version }] }`:
 * a one-off query with the caller's read rules (an API key reads everything), the same
 * semantics and limits as live queries.
 */
export function queryApi(deps: ApiDeps, queries: QueryService): RouteHandler {
  return apiRoute(deps, 'query', ['POST'], async ({ res, user, body }) => {
    const input = await body()
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new SwitchboardError(
        'INVALID_MESSAGE',
        'the body is a JSON object: { collection, where?, orderBy?, limit? }',
      )
    const { collection, ...options } = input as Record<string, unknown>
    const spec = queries.parse(collection, options)
    const rows = await queries.query(spec, user, isBackend(user))
    sendJson(res, 200, { rows })
  })
}
