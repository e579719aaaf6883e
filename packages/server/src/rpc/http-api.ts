import { isValidName } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'
import { apiRoute, nameAfter, type ApiDeps } from '../http/api-route.js'
import { sendJson, type RouteHandler } from '../http/router.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import { checkData } from '../wire/data-guard.js'
import type { RpcService } from './rpc-service.js'

export const RPC_API_PREFIX = '/api/rpc/'

/**
 * `POST /api/rpc/{name}` with the arguments as the JSON body (an empty body: no arguments) →
 * `{ result }`, routed to any provider like a client's call, under the `rpc.call` rule.
 * `?timeoutMs=` as in `sb.rpc.call` (capped at rpc.maxTimeoutMs). Provider errors keep their
 * codes: 503 NO_PROVIDER, 504 TIMEOUT, 502 RPC_ERROR with the provider's message.
 */
export function rpcApi(
  deps: ApiDeps,
  rpc: RpcService,
  policy: AccessPolicy,
  limits: { maxJsonDepth: number },
): RouteHandler {
  return apiRoute(deps, 'rpc', ['POST'], async ({ req, res, url, user, body }) => {
    const name = nameAfter(url.pathname, RPC_API_PREFIX, 'RPC')
    if (!isValidName(name)) throw new SwitchboardError('INVALID_NAME', `invalid RPC name: ${name}`)
    const args = req.headers['content-length'] === '0' ? undefined : await body()
    const problem = checkData(args, limits.maxJsonDepth)
    if (problem) throw new SwitchboardError('INVALID_DATA', problem)
    const timeout = url.searchParams.get('timeoutMs')
    if (timeout !== null && !/^[1-9]\d{0,8}$/.test(timeout)) {
      throw new SwitchboardError('INVALID_MESSAGE', 'timeoutMs must be a positive integer')
    }
    if (!policy.allows({ kind: 'rpc', action: 'call', name, user, data: args })) {
      throw new SwitchboardError('PERMISSION_DENIED', `not allowed to call ${name}`)
    }
    const result = await rpc.callAsync(name, args, user, timeout === null ? undefined : Number(timeout))
    sendJson(res, 200, { result: result === undefined ? null : result })
  })
}
