import type { ConceptModule } from '../core/concept-module.js'
import { wireEntries } from '../core/concept-module.js'
import { sessionHandlers, type SessionHandlerDeps } from './handlers.js'
import { connectionSchemas } from './wire-schemas.js'

/** Connection-level messages (hello, ping/pong, token refresh): the module every server has. */
export function connectionModule(deps: SessionHandlerDeps): ConceptModule<'hello' | 'ping' | 'pong' | 'refresh'> {
  return { name: 'connection', messages: wireEntries(connectionSchemas, sessionHandlers(deps)) }
}
