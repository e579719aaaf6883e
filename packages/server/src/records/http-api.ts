import type { IncomingMessage, ServerResponse } from 'node:http'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { RecordMutation, UpdateOps } from '@switchboard/protocol'
import type { AuthUser } from '../auth/authenticator.js'
import { SwitchboardError } from '../errors.js'
import { apiRoute, nameAfter, type ApiDeps } from '../http/api-route.js'
import { sendJson, type RouteHandler } from '../http/router.js'
import type { RecordService } from './record-service.js'
import { UpdateOpsSchema } from './wire-schemas.js'
import { checkMutation, type MutationLimits, type WriteRequest } from './write-plan.js'

export const RECORDS_API_PREFIX = '/api/records/'
const opsCheck = TypeCompiler.Compile(UpdateOpsSchema)

/**
 * `GET/PUT/PATCH/DELETE /api/records/{name}` (SPEC §3 HTTP): read, replace, atomic update,
 * delete. Same rules, lanes, versions and notifications as a connection's record messages.
 * The version travels as an ETag: `GET` sends `ETag: "7"`, and a write with `If-Match: "7"`
 * fails with 409 VERSION_CONFLICT unless the record is still at version 7.
 */
export function recordsApi(deps: ApiDeps, records: RecordService, limits: MutationLimits): RouteHandler {
  const write = (name: string, user: AuthUser | null, mutation: RecordMutation, ifVersion: number | undefined) =>
    new Promise<number>((resolve, reject) => {
      checkMutation(mutation, limits)
      const req: WriteRequest = { name, mutation, user, trusted: false }
      if (ifVersion !== undefined) req.ifVersion = ifVersion
      records.write(req, (outcome) => (outcome.ok ? resolve(outcome.version) : reject(outcome.error)))
    })

  return apiRoute(deps, 'records', ['GET', 'PUT', 'PATCH', 'DELETE'], async ({ req, res, url, user, body }) => {
    const name = nameAfter(url.pathname, RECORDS_API_PREFIX, 'record')
    switch (req.method) {
      case 'PUT':
        return sendVersion(res, await write(name, user, { kind: 'set', value: await body() }, ifMatch(req)))
      case 'PATCH': {
        const ifVersion = ifMatch(req)
        const ops = await body()
        if (!opsCheck.Check(ops)) {
          throw new SwitchboardError(
            'INVALID_MESSAGE',
            'PATCH takes update operations: { increment?: { path: number }, push?: { path: value }, unset?: [path] }',
          )
        }
        return sendVersion(res, await write(name, user, { kind: 'update', ops: ops as UpdateOps }, ifVersion))
      }
      case 'DELETE':
        return sendVersion(res, await write(name, user, { kind: 'delete' }, ifMatch(req)))
      default: {
        const state = await records.read(name, user, false)
        if (state.data === undefined) throw new SwitchboardError('NOT_FOUND', `record ${name} does not exist`)
        res.setHeader('etag', `"${state.version}"`)
        return sendJson(res, 200, { data: state.data, version: state.version })
      }
    }
  })
}

function sendVersion(res: ServerResponse, version: number): void {
  res.setHeader('etag', `"${version}"`)
  sendJson(res, 200, { version })
}

/** `If-Match: "7"` (or `7`, or `W/"7"`) → 7; a list or `*` is not supported. */
function ifMatch(req: IncomingMessage): number | undefined {
  const header = req.headers['if-match']
  if (header === undefined) return undefined
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header)
  if (!m) throw new SwitchboardError('INVALID_MESSAGE', 'If-Match must be one record version, e.g. "7"')
  return Number(m[1])
}
