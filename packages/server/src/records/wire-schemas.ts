import { Type } from '@sinclair/typebox'
import { Id, Name, strict } from '../wire/schema-parts.js'

const Version = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
const Path = Type.String({ minLength: 1, maxLength: 1024 })
const WriteId = Type.String({ minLength: 1, maxLength: 64 })
const WriteIds = Type.Array(WriteId, { maxItems: 1000 })
export const UpdateOpsSchema = Type.Object(
  {
    // The number of operations is bounded by limits.maxUpdateOps (checked after this shape).
    increment: Type.Optional(Type.Record(Type.String(), Type.Number())),
    push: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    unset: Type.Optional(Type.Array(Path, { maxItems: 100_000 })),
  },
  { additionalProperties: false },
)

export const recordSchemas = {
  rsub: strict({ t: Type.Literal('rsub'), id: Id, n: Name, v: Type.Optional(Version), w: Type.Optional(WriteIds) }),
  runsub: strict({ t: Type.Literal('runsub'), id: Id, n: Name }),
  rget: strict({ t: Type.Literal('rget'), id: Id, n: Name, w: Type.Optional(WriteIds) }),
  rset: strict({
    t: Type.Literal('rset'),
    id: Id,
    n: Name,
    p: Type.Optional(Path),
    d: Type.Unknown(),
    iv: Type.Optional(Version),
    w: Type.Optional(WriteId),
  }),
  rupd: strict({
    t: Type.Literal('rupd'),
    id: Id,
    n: Name,
    ops: UpdateOpsSchema,
    iv: Type.Optional(Version),
    w: Type.Optional(WriteId),
  }),
  rdel: strict({ t: Type.Literal('rdel'), id: Id, n: Name, iv: Type.Optional(Version), w: Type.Optional(WriteId) }),
}
