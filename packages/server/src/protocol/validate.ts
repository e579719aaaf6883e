import { Type, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { ClientMessage, ClientMessageType } from '@switchboard/protocol'

const Id = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
const Name = Type.String({ minLength: 1, maxLength: 255 })
const Position = Type.Object(
  { offset: Type.Integer({ minimum: 0 }), epoch: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
)
const strict = <T extends Record<string, TSchema>>(props: T) => Type.Object(props, { additionalProperties: false })

/** One compiled check per message type; the type tag is switched on first. */
const schemas: { [K in ClientMessageType]: TSchema } = {
  hello: strict({
    t: Type.Literal('hello'),
    id: Id,
    v: Type.Integer(),
    token: Type.Optional(Type.String({ maxLength: 16_384 })),
    agent: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  sub: strict({ t: Type.Literal('sub'), id: Id, ch: Name, since: Type.Optional(Position) }),
  unsub: strict({ t: Type.Literal('unsub'), id: Id, ch: Name }),
  pub: strict({ t: Type.Literal('pub'), id: Id, ch: Name, d: Type.Unknown() }),
  hist: strict({
    t: Type.Literal('hist'),
    id: Id,
    ch: Name,
    since: Type.Optional(Position),
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  }),
  ping: strict({ t: Type.Literal('ping') }),
  pong: strict({ t: Type.Literal('pong') }),
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
