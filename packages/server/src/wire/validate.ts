// Several engineers edit this tree at once: read CONTRIBUTING.md first (small targeted edits to shared
// files, commit only your own files, never `git add -A`/stash/reset, one `npm install` at a time).
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { ClientMessage, ClientMessageType } from '@switchboard/protocol'
import { channelSchemas } from '../channels/wire-schemas.js'
import { recordSchemas } from '../records/wire-schemas.js'
import { presenceSchemas } from '../presence/wire-schemas.js'
import { rpcSchemas } from '../rpc/wire-schemas.js'
import { connectionSchemas } from '../session/wire-schemas.js'

/** One compiled check per message type; the type tag is switched on first. Each concept adds its own. */
const schemas: { [K in ClientMessageType]: TSchema } = {
  ...connectionSchemas,
  ...channelSchemas,
  ...recordSchemas,
  ...rpcSchemas,
  ...presenceSchemas,
}

const checks = Object.fromEntries(Object.entries(schemas).map(([t, s]) => [t, TypeCompiler.Compile(s)])) as Record<
  ClientMessageType,
  TypeCheck<TSchema>
>

export type CheckResult = { ok: true; message: ClientMessage } | { ok: false; id?: number; reason: string }

/** Validates one decoded value as a client message. Never throws. */
export function checkMessage(value: unknown): CheckResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'a message must be a JSON object' }
  }
  const record = value as Record<string, unknown>
  const id = Number.isSafeInteger(record.id) && (record.id as number) >= 0 ? (record.id as number) : undefined
  const t = record.t
  if (typeof t !== 'string' || !Object.hasOwn(checks, t)) {
    return { ok: false, id, reason: `unknown message type ${JSON.stringify(t)?.slice(0, 40)}` }
  }
  const check = checks[t as ClientMessageType]
  if (check.Check(value)) return { ok: true, message: value as ClientMessage }
  const first = check.Errors(value).First()
  return { ok: false, id, reason: first ? `${t}${first.path || ''}: ${first.message}` : `invalid ${t} message` }
}
