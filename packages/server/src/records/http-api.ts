import type { IncomingMessage, ServerResponse } from 'node:http'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { RecordMutation, UpdateOps } from '@switchboard/protocol'
import type { Authenticator, AuthUser } from '../auth/authenticator.js'
import { SwitchboardError, toSwitchboardError } from '../errors.js'
import { readJsonBody } from '../http/body.js'
import { applyCors } from '../http/cors.js'
import { authenticateRequest } from '../http/request-auth.js'
import { sendError, sendJson, type RouteHandler } from '../http/router.js'
import type { RecordService } from './record-service.js'
import { UpdateOpsSchema } from './schemas.js'
import { checkMutation, type WriteRequest } from './write-plan.js'

export const RECORDS_API_PREFIX = '/api/records/'
const METHODS = 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'
const opsCheck = TypeCompiler.Compile(UpdateOpsSchema)

export interface RecordsApiOptions {
  records: RecordService
  authenticator: Authenticator
  limits: { maxMessageBytes: number; maxJsonDepth: number }
  /** server.cors */
  cors: readonly string[]
  /** False while starting or draining: requests get 503 UNAVAILABLE. */
  accepting: () => boolean
}

/**
 * `GET/PUT/PATCH/DELETE /api/records/{name}` (SPEC §3 HTTP): read, replace, atomic update,
 * delete. Same rules, lanes, versions and notifications as a connection's record messages.
 * The version travels as an ETag: `GET` sends `ETag: "7"`, and a write with `If-Match: "7"`
 * fails with 409 VERSION_CONFLICT unless the record is still at version 7.
 */
export function recordsApi(options: RecordsApiOptions): RouteHandler {
  const { records, limits } = options

  const write = (name: string, user: AuthUser | null, mutation: RecordMutation, ifVersion: number | undefined) =>
    new Promise<number>((resolve, reject) => {
      checkMutation(mutation, limits.maxJsonDepth)
      const req: WriteRequest = { name, mutation, user, trusted: false }
      if (ifVersion !== undefined) req.ifVersion = ifVersion
      records.write(req, (outcome) => (outcome.ok ? resolve(outcome.version) : reject(outcome.error)))
    })

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const name = recordName(url.pathname)
    const user = await authenticateRequest(req, options.authenticator)
    switch (req.method) {
      case 'GET':
      case 'HEAD': {
        const state = await records.read(name, user, false)
        if (state.data === undefined) throw new SwitchboardError('NOT_FOUND', `record ${name} does not exist`)
        res.setHeader('etag', `"${state.version}"`)
        sendJson(res, 200, { data: state.data, version: state.version })
        return
      }
      case 'PUT': {
        const ifVersion = ifMatch(req)
        const value = await readJsonBody(req, limits.maxMessageBytes)
        const version = await write(name, user, { kind: 'set', value }, ifVersion)
        sendVersion(res, version)
        return
      }
      case 'PATCH': {
        const ifVersion = ifMatch(req)
        const ops = await readJsonBody(req, limits.maxMessageBytes)
        if (!opsCheck.Check(ops)) {
          throw new SwitchboardError(
            'INVALID_MESSAGE',
            'PATCH takes update operations: { increment?: { path: number }, push?: { path: value }, unset?: [path] }',
          )
        }
        const version = await write(name, user, { kind: 'update', ops: ops as UpdateOps }, ifVersion)
        sendVersion(res, version)
        return
      }
      case 'DELETE': {
        const version = await write(name, user, { kind: 'delete' }, ifMatch(req))
        sendVersion(res, version)
        return
      }
      default:
        res.setHeader('allow', METHODS)
        throw new SwitchboardError('INVALID_MESSAGE', `method ${req.method} not allowed`)
    }
  }

  return async (req, res, url) => {
    if (applyCors(req, res, options.cors, METHODS)) return
    try {
      if (!options.accepting()) throw new SwitchboardError('UNAVAILABLE', 'the server is starting or shutting down')
      await handle(req, res, url)
    } catch (err) {
      const e = toSwitchboardError(err)
      const status = e.code === 'INVALID_MESSAGE' && res.hasHeader('allow') ? 405 : undefined
      sendError(res, status, e.code, e.message, e.data)
    }
  }
}

function sendVersion(res: ServerResponse, version: number): void {
  res.setHeader('etag', `"${version}"`)
  sendJson(res, 200, { version })
}

/** The record name after the prefix, percent-decoded (`todos%2F42` and `todos/42` both work). */
function recordName(pathname: string): string {
  let name: string
  try {
    name = decodeURIComponent(pathname.slice(RECORDS_API_PREFIX.length))
  } catch {
    throw new SwitchboardError('INVALID_NAME', 'the record name is not valid percent-encoding')
  }
  if (name === '') throw new SwitchboardError('INVALID_NAME', 'a record name is required: /api/records/{name}')
  return name
}

/** `If-Match: "7"` (or `7`, or `W/"7"`) → 7; a list or `*` is not supported. */
function ifMatch(req: IncomingMessage): number | undefined {
  const header = req.headers['if-match']
  if (header === undefined) return undefined
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header)
  if (!m) throw new SwitchboardError('INVALID_MESSAGE', 'If-Match must be one record version, e.g. "7"')
  return Number(m[1])
}
