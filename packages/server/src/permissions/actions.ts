import type { AccessRequest } from './access-policy.js'

/** The actions a rule may name, per kind of resource (SPEC §3). */
export const ACTIONS = {
  channels: ['subscribe', 'publish', 'history', 'listen'],
  records: ['read', 'write', 'delete', 'listen'],
  rpc: ['provide', 'call'],
  presence: ['join', 'read'],
} as const satisfies { [K in AccessRequest['kind']]: readonly Extract<AccessRequest, { kind: K }>['action'][] }

/**
 * The global presence room's name (`sb.presence()`, protocol GLOBAL_ROOM). Not a valid name
 * pattern, so `presence:` accepts it as a key of its own; `*` and `**` match it too.
 */
export const GLOBAL_PRESENCE = '$global'

export type Kind = keyof typeof ACTIONS
export type Action = (typeof ACTIONS)[Kind][number]

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && Object.hasOwn(ACTIONS, value)
}

export function isActionOf(kind: Kind, value: unknown): value is Action {
  return (ACTIONS[kind] as readonly string[]).includes(value as string)
}
