import { Type } from '@sinclair/typebox'
import { Id, strict } from '../wire/schema-parts.js'

export const connectionSchemas = {
  hello: strict({
    t: Type.Literal('hello'),
    id: Id,
    v: Type.Integer(),
    token: Type.Optional(Type.String({ maxLength: 16_384 })),
    agent: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  refresh: strict({ t: Type.Literal('refresh'), id: Id, token: Type.String({ minLength: 1, maxLength: 16_384 }) }),
  ping: strict({ t: Type.Literal('ping') }),
  pong: strict({ t: Type.Literal('pong') }),
}
