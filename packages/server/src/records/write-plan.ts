import {
  applyMutation,
  isPlainObject,
  parsePath,
  RecordOpError,
  type RecordChangeMessage,
  type RecordConflictData,
  type RecordDocument,
  type RecordMutation,
} from '@switchboard/protocol'
import type { AuthUser } from '../auth/authenticator.js'
import type { SchemaRegistry } from '../data-schemas/schema-registry.js'
import { SwitchboardError } from '../errors.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import { checkData } from '../wire/data-guard.js'

/** A record as core knows it: version 0 and no data = never written; no data = deleted. */
export interface RecordState {
  version: number
  data: RecordDocument | undefined
  /** JSON size of `data`, estimated between exact measurements (see WritePlanner.measure). */
  bytes: number
}

export interface WriteRequest {
  name: string
  mutation: RecordMutation
  ifVersion?: number
  /** The client's write id, echoed in the change so the writer recognises it. */
  writeId?: string
  /** The user the write is checked for; `trusted` writes (server API) skip permission rules. */
  user: AuthUser | null
  trusted: boolean
}

export interface PlannedWrite {
  state: RecordState
  /** Null when the write changes nothing (deleting a record that does not exist). */
  change: RecordChangeMessage | null
}

export interface WriteLimits {
  maxJsonDepth: number
  /** Largest document (JSON bytes) a record may grow to. */
  maxMessageBytes: number
}

/** What a write is checked against before it reaches a record (`limits` config). */
export interface MutationLimits {
  maxJsonDepth: number
  /** Most operations (increment + push + unset paths) in one update. */
  maxUpdateOps: number
}

/**
 * Checks a write before it touches any record (the parts that do not depend on the current
 * document): document shape, number of update operations, paths, nesting depth and
 * `__proto__` keys of incoming values.
 */
export function checkMutation(mutation: RecordMutation, limits: MutationLimits): void {
  const maxDepth = limits.maxJsonDepth
  const fail = (message: string): never => {
    throw new SwitchboardError('INVALID_DATA', message)
  }
  const depthLeft = (path: string, extra = 0): number => {
    const segments = parsePath(path)
    if (!segments)
      fail(
        `invalid path: ${JSON.stringify(path).slice(0, 100)} (dotted segments; __proto__, prototype and constructor are not allowed)`,
      )
    return maxDepth - (segments as string[]).length - extra
  }
  const guard = (value: unknown, depth: number) => {
    const problem = checkData(value, Math.max(depth, 0))
    if (problem) fail(problem)
  }
  switch (mutation.kind) {
    case 'set':
      if (mutation.path === undefined) {
        if (!isPlainObject(mutation.value)) fail("a record's document must be a JSON object")
        guard(mutation.value, maxDepth)
      } else {
        if (mutation.value === undefined) fail('set needs a value (use update with unset to remove one)')
        guard(mutation.value, depthLeft(mutation.path))
      }
      return
    case 'update': {
      const { increment = {}, push = {}, unset = [] } = mutation.ops
      const count = Object.keys(increment).length + Object.keys(push).length + unset.length
      if (count === 0) fail('update has no operations')
      if (count > limits.maxUpdateOps)
        fail(`update has ${count} operations; at most ${limits.maxUpdateOps} (limits.maxUpdateOps)`)
      for (const path of Object.keys(increment)) depthLeft(path)
      for (const [path, item] of Object.entries(push)) guard(item, depthLeft(path, 1))
      for (const path of unset) depthLeft(path)
      return
    }
    case 'delete':
      return
  }
}

/**
 * Applies one write to a record's state: ifVersion, the change itself, size, schema and
 * permission, in that order. Pure apart from the policy and schema calls; throws a coded
 * SwitchboardError when the write cannot go ahead.
 */
export class WritePlanner {
  constructor(
    private readonly policy: AccessPolicy,
    private readonly schemas: SchemaRegistry,
    private readonly limits: WriteLimits,
  ) {}

  plan(state: RecordState, req: WriteRequest): PlannedWrite {
    const { name, mutation } = req
    if (req.ifVersion !== undefined && req.ifVersion !== state.version) {
      const data: RecordConflictData = { version: state.version }
      if (
        state.data !== undefined &&
        (req.trusted || this.policy.allows({ kind: 'records', action: 'read', name, user: req.user, old: state.data }))
      ) {
        data.data = state.data
      }
      throw new SwitchboardError(
        'VERSION_CONFLICT',
        `${name} is at version ${state.version}, not ${req.ifVersion}`,
        data,
      )
    }
    let next: RecordDocument | undefined
    try {
      next = applyMutation(state.data, mutation)
    } catch (err) {
      if (err instanceof RecordOpError) throw new SwitchboardError('INVALID_DATA', err.message)
      throw err
    }
    const deleting = next === undefined
    if (!req.trusted) {
      const action = deleting ? 'delete' : 'write'
      if (!this.policy.allows({ kind: 'records', action, name, user: req.user, data: next, old: state.data })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to ${action} ${name}`)
      }
    }
    if (deleting && state.data === undefined) return { state, change: null }
    const bytes = next === undefined ? 0 : this.measure(state, mutation, next)
    if (bytes > this.limits.maxMessageBytes) {
      throw new SwitchboardError(
        'TOO_LARGE',
        `${name} would grow to about ${bytes} bytes (limit ${this.limits.maxMessageBytes})`,
      )
    }
    if (next !== undefined) {
      const problem = this.schemas.check(name, next)
      if (problem) throw new SwitchboardError('INVALID_DATA', `${name}: ${problem}`)
    }
    const version = state.version + 1
    const change: RecordChangeMessage = { t: 'rchg', n: name, v: version }
    if (mutation.kind === 'delete') change.del = true
    else if (mutation.kind === 'update') change.ops = mutation.ops
    else {
      if (mutation.path !== undefined) change.p = mutation.path
      change.d = mutation.value
    }
    if (req.writeId !== undefined) change.w = req.writeId
    return { state: { version, data: next, bytes }, change }
  }

  /**
   * The new document's JSON size. Estimated from what the write adds (cheap: only the incoming
   * value is measured); measured exactly once the estimate passes half the limit, so the limit
   * itself is enforced on the true size.
   */
  private measure(state: RecordState, mutation: RecordMutation, next: RecordDocument): number {
    let estimate: number
    if (mutation.kind === 'set') {
      const added = JSON.stringify(mutation.value).length
      estimate = mutation.path === undefined ? added : state.bytes + added + mutation.path.length + 4
    } else {
      estimate = state.bytes + JSON.stringify(mutation.kind === 'update' ? mutation.ops : null).length
    }
    if (state.data === undefined && mutation.kind !== 'set') estimate += 2
    return estimate * 2 > this.limits.maxMessageBytes ? JSON.stringify(next).length : estimate
  }
}

/** The state for what the store returned. */
export function stateOf(stored: { version: number; data: unknown } | null): RecordState {
  if (!stored) return { version: 0, data: undefined, bytes: 0 }
  const data = stored.data === undefined ? undefined : (stored.data as RecordDocument)
  return { version: stored.version, data, bytes: data === undefined ? 0 : JSON.stringify(data).length }
}
