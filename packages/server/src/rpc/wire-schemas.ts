import { Type } from '@sinclair/typebox'
import { Id, Name, strict } from '../wire/schema-parts.js'

/** Timeouts a caller may ask for (the server still caps them at rpc.maxTimeoutMs). */
const Timeout = Type.Integer({ minimum: 1, maximum: 2_147_483_647 })

export const rpcSchemas = {
  rpc: strict({
    t: Type.Literal('rpc'),
    id: Id,
    n: Name,
    a: Type.Optional(Type.Unknown()),
    to: Type.Optional(Timeout),
  }),
  prov: strict({ t: Type.Literal('prov'), id: Id, n: Name }),
  unprov: strict({ t: Type.Literal('unprov'), id: Id, n: Name }),
  rpcres: strict({ t: Type.Literal('rpcres'), c: Id, r: Type.Optional(Type.Unknown()) }),
  rpcerr: strict({
    t: Type.Literal('rpcerr'),
    c: Id,
    msg: Type.String({ maxLength: 4096 }),
    code: Type.Optional(Type.String({ maxLength: 64 })),
  }),
  rpcrej: strict({ t: Type.Literal('rpcrej'), c: Id }),
}
