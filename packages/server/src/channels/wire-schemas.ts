import { Type } from '@sinclair/typebox'
import { Id, Name, Position, strict } from '../wire/schema-parts.js'

const PublishId = Type.String({ minLength: 1, maxLength: 64 })

export const channelSchemas = {
  sub: strict({ t: Type.Literal('sub'), id: Id, ch: Name, since: Type.Optional(Position) }),
  unsub: strict({ t: Type.Literal('unsub'), id: Id, ch: Name }),
  pub: strict({ t: Type.Literal('pub'), id: Id, ch: Name, d: Type.Unknown(), w: Type.Optional(PublishId) }),
  hist: strict({
    t: Type.Literal('hist'),
    id: Id,
    ch: Name,
    since: Type.Optional(Position),
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  }),
}
