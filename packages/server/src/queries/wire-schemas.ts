import { Type } from '@sinclair/typebox'
import { Id, Name, strict } from '../wire/schema-parts.js'

/**
 * The frame's shape only; what the conditions and keys mean is checked by `parseQuery`, which
 * names the bad part (`where[1]: …`) with INVALID_DATA.
 */
const Clause = Type.Array(Type.Unknown(), { maxItems: 3 })
const Path = Type.String({ maxLength: 1024 })

export const querySchemas = {
  qsub: strict({
    t: Type.Literal('qsub'),
    id: Id,
    q: Id,
    c: Name,
    w: Type.Optional(Type.Array(Clause, { maxItems: 1000 })),
    o: Type.Optional(Type.Array(Type.Array(Type.Unknown(), { maxItems: 2 }), { maxItems: 1000 })),
    l: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    k: Type.Optional(
      Type.Array(Type.Tuple([Path, Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]), {
        maxItems: 100_000,
      }),
    ),
  }),
  qunsub: strict({ t: Type.Literal('qunsub'), id: Id, q: Id }),
}
