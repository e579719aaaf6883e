import type { TSchema } from '@sinclair/typebox'
import type { ClientMessage, ClientMessageType } from '@switchboard/protocol'
import type { Session } from '../session/session.js'
import { MessageValidator } from '../wire/validate.js'
import type { MessageHandler } from '../wire/dispatch.js'
import type { ConceptModule } from './concept-module.js'

type Owned<M> = M extends ConceptModule<infer T> ? T : never
type Missing<Ms extends readonly ConceptModule[]> = Exclude<ClientMessageType, Owned<Ms[number]>>

export interface ComposedWire {
  readonly validator: MessageValidator
  dispatch(session: Session, message: ClientMessage): void | Promise<void>
}

/**
 * Builds the message validator and the dispatcher from the modules' wire entries. A message
 * type no module handles is a compile error at the call (the extra argument names it), and a
 * type two modules claim is an error at start.
 */
export function composeWire<const Ms extends readonly ConceptModule[]>(
  modules: Ms,
  ..._complete: Missing<Ms> extends never ? [] : [`no module handles: ${Missing<Ms>}`]
): ComposedWire {
  const schemas: Record<string, TSchema> = {}
  const handlers: Record<string, MessageHandler<ClientMessageType>> = {}
  for (const module of modules) {
    for (const [type, entry] of Object.entries(module.messages) as [
      string,
      ConceptModule<ClientMessageType>['messages'][ClientMessageType],
    ][]) {
      if (Object.hasOwn(schemas, type)) throw new Error(`message type ${type} is claimed by two modules`)
      schemas[type] = entry.schema
      handlers[type] = entry.handle as MessageHandler<ClientMessageType>
    }
  }
  return {
    validator: new MessageValidator(schemas),
    dispatch: (session, message) =>
      (handlers[message.t] as MessageHandler<ClientMessageType>)(session, message as never),
  }
}
