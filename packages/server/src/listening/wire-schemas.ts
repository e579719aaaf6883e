import { Type } from '@sinclair/typebox'
import { Id, Name, strict } from '../wire/schema-parts.js'

const Kind = Type.Union([Type.Literal('channel'), Type.Literal('record')])

export const listeningSchemas = {
  lsn: strict({ t: Type.Literal('lsn'), id: Id, k: Kind, p: Name }),
  unlsn: strict({ t: Type.Literal('unlsn'), id: Id, k: Kind, p: Name }),
}
