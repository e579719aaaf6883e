import { Type } from '@sinclair/typebox'
import { Id, Name, strict } from '../wire/schema-parts.js'

export const presenceSchemas = {
  pjoin: strict({ t: Type.Literal('pjoin'), id: Id, r: Name, m: Type.Optional(Type.Unknown()) }),
  pleave: strict({ t: Type.Literal('pleave'), id: Id, r: Name }),
  pwatch: strict({ t: Type.Literal('pwatch'), id: Id, r: Name, cnt: Type.Optional(Type.Boolean()) }),
  punwatch: strict({ t: Type.Literal('punwatch'), id: Id, r: Name }),
}
