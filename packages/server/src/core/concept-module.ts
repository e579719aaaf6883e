import type { TSchema } from '@sinclair/typebox'
import type { ClientMessageType } from '@switchboard/protocol'
import type { Publication } from '../engine/broker.js'
import type { ApiDeps } from '../http/api-route.js'
import type { RouteHandler } from '../http/router.js'
import type { Session } from '../session/session.js'
import type { MessageHandler } from '../wire/dispatch.js'

/** What a concept says about each client message type it owns: its schema and its handler. */
export type WireEntries<T extends ClientMessageType> = {
  [K in T]: { readonly schema: TSchema; readonly handle: MessageHandler<K> }
}

/** Engine streams a concept receives: those whose name starts with `prefix` (none = the default route). */
export interface StreamRoute {
  readonly prefix?: string
  receive(publication: Publication): void
}

/** One HTTP route: an exact path (any method unless given) or a prefix followed by a name. */
export type HttpRoute =
  | { readonly path: string; readonly method?: string; readonly handler: RouteHandler }
  | { readonly prefix: string; readonly handler: RouteHandler }

/**
 * A server concept (channels, records, RPC, presence, …) as the composition root sees it.
 * Adding a concept is its folder plus one entry in the server's module list; nothing on a lower
 * floor (session, wire, engine, http, limits) imports a concept.
 */
export interface ConceptModule<T extends ClientMessageType = never> {
  readonly name: string
  /** The client messages it handles (every message type is owned by exactly one module). */
  readonly messages: WireEntries<T>
  /** Engine streams it consumes. */
  readonly stream?: StreamRoute
  /** Its HTTP API routes, given what every API route shares. */
  routes?(api: ApiDeps): readonly HttpRoute[]
  /** After a token refresh changed `session.user`: ends what the new claims no longer allow. */
  userChanged?(session: Session): void
  /** A session completed its handshake (authenticated, welcomed). */
  sessionOpened?(session: Session): void
  /** A session ended (with its close code and reason): drop everything it held. */
  sessionClosed?(session: Session, code: number, reason: string): void
  /** Started with the engine, before the server reports ready. */
  start?(): Promise<void>
  /** Stopped after every session is gone, in reverse module order. */
  close?(): Promise<void>
}

/** Ties schemas and handlers of the same message types together (both maps must cover them all). */
export function wireEntries<T extends ClientMessageType>(
  schemas: { readonly [K in T]: TSchema },
  handlers: { readonly [K in T]: MessageHandler<K> },
): WireEntries<T> {
  const entries = {} as { [K in T]: { schema: TSchema; handle: MessageHandler<K> } }
  for (const type of Object.keys(schemas) as T[]) {
    entries[type] = { schema: schemas[type], handle: handlers[type] } as (typeof entries)[typeof type]
  }
  return entries
}
