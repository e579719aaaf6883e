import type { OccupancyKind } from '../engine/occupancy.js'

export const HOOK_EVENT_TYPES = ['occupied', 'vacated', 'connect', 'disconnect'] as const
export type HookEventType = (typeof HOOK_EVENT_TYPES)[number]

interface HookEventBase {
  /** Unique per event (node id + sequence): a receiver can drop a retried duplicate by it. */
  id: string
  /** When it happened (epoch ms, the node's clock). */
  at: number
  /** The node it happened on. */
  node: string
}

/** A channel or record gained its first subscriber anywhere (`occupied`) or lost its last (`vacated`). */
export interface OccupancyHookEvent extends HookEventBase {
  type: 'occupied' | 'vacated'
  kind: OccupancyKind
  name: string
}

/** A client connected (authenticated) or its connection ended. */
export interface ConnectHookEvent extends HookEventBase {
  type: 'connect'
  /** The connection's client id. */
  client: string
  /** The user id, or null when anonymous. */
  user: string | null
}

export interface DisconnectHookEvent extends HookEventBase {
  type: 'disconnect'
  client: string
  user: string | null
  /** The close code (see the protocol's close codes) and its reason. */
  code: number
  reason: string
}

export type HookEvent = OccupancyHookEvent | ConnectHookEvent | DisconnectHookEvent

export type HookEventOf<T extends HookEventType> = Extract<HookEvent, { type: T }>

export function isHookEventType(value: unknown): value is HookEventType {
  return (HOOK_EVENT_TYPES as readonly unknown[]).includes(value)
}
