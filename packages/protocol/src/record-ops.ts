/**
 * How record writes change a document: one implementation shared by the server (which
 * validates and commits) and the client (which applies the same writes optimistically and
 * replays changes). Both sides must agree to the byte, so this lives with the protocol.
 *
 * Documents are JSON objects and are never mutated: every function returns a new document
 * that shares the unchanged parts with the old one (so `a.x === b.x` means "x did not change").
 * Only own properties are read, so `toString` or `constructor` never resolve to prototypes.
 */
import { parsePath } from './names.js'
import { isIndexSegment, valueAt } from './query/values.js'

export type RecordDocument = Record<string, unknown>

/** Atomic operations applied at the server: increment, then push, then unset. */
export interface UpdateOps {
  /** Adds to numbers; a missing value counts as 0. */
  increment?: Record<string, number>
  /** Appends one item to arrays; a missing value becomes a one-item array. */
  push?: Record<string, unknown>
  /** Removes keys (or array items, shifting the rest); missing paths are ignored. */
  unset?: string[]
}

export type RecordMutation =
  /** The whole document (no path) or the value at one dotted path. */
  { kind: 'set'; path?: string; value: unknown } | { kind: 'update'; ops: UpdateOps } | { kind: 'delete' }

/** A write that cannot apply to the document it met; `path` is the offending path ('' = root). */
export class RecordOpError extends Error {
  override readonly name = 'RecordOpError'
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message)
  }
}

type Container = Record<string, unknown> | unknown[]

export function isPlainObject(value: unknown): value is RecordDocument {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The document after `mutation`; undefined means the record does not exist (deleted). */
export function applyMutation(doc: RecordDocument | undefined, mutation: RecordMutation): RecordDocument | undefined {
  switch (mutation.kind) {
    case 'delete':
      return undefined
    case 'set':
      if (mutation.path === undefined) {
        if (!isPlainObject(mutation.value)) throw new RecordOpError('', "a record's document must be a JSON object")
        return mutation.value
      }
      return setIn(doc ?? {}, mutation.path, mutation.value)
    case 'update':
      return applyUpdate(doc ?? {}, mutation.ops)
  }
}

/**
 * Applies every operation of one update. All of them share one draft, so each container on a
 * written path is copied once, not once per operation: the cost grows with the number of
 * paths, not with paths × document width.
 */
export function applyUpdate(doc: RecordDocument, ops: UpdateOps): RecordDocument {
  const draft = new Draft(doc)
  for (const [path, by] of Object.entries(ops.increment ?? {})) {
    if (typeof by !== 'number' || !Number.isFinite(by))
      throw new RecordOpError(path, `increment of ${path} must be a finite number`)
    const segments = segmentsOf(path)
    const current = getIn(draft.root, segments)
    if (current !== undefined && typeof current !== 'number') throw new RecordOpError(path, `${path} is not a number`)
    const sum = (current ?? 0) + by
    if (!Number.isFinite(sum)) throw new RecordOpError(path, `${path} would overflow`)
    draft.set(path, segments, sum)
  }
  for (const [path, item] of Object.entries(ops.push ?? {})) {
    const segments = segmentsOf(path)
    const current = getIn(draft.root, segments)
    if (current !== undefined && !Array.isArray(current)) throw new RecordOpError(path, `${path} is not an array`)
    draft.set(path, segments, current === undefined ? [item] : [...(current as unknown[]), item])
  }
  for (const path of ops.unset ?? []) draft.unset(segmentsOf(path))
  return draft.root
}

/** The value at a dotted path (or the document for ''); undefined when missing. */
export function getPath(doc: unknown, path: string): unknown {
  if (path === '') return doc
  const segments = parsePath(path)
  return segments ? getIn(doc, segments) : undefined
}

/** The value at a path's segments: own keys only, and on arrays their items only (not `length`). */
export const getIn: (doc: unknown, segments: readonly string[]) => unknown = valueAt

/** Sets the value at `path`, creating objects for missing (or null) parents. */
export function setIn(doc: RecordDocument, path: string, value: unknown): RecordDocument {
  const draft = new Draft(doc)
  draft.set(path, segmentsOf(path), value)
  return draft.root
}

/** Removes the key (or array item) at `path`; a missing path leaves the document as is. */
export function unsetIn(doc: RecordDocument, path: string): RecordDocument {
  const draft = new Draft(doc)
  draft.unset(segmentsOf(path))
  return draft.root
}

function segmentsOf(path: string): string[] {
  const segments = parsePath(path)
  if (!segments) throw new RecordOpError(path, `invalid path: ${JSON.stringify(path).slice(0, 100)}`)
  return segments
}

/**
 * A document under change. Containers on written paths are copied the first time a write
 * touches them and changed in place afterwards; only containers this draft made are ever
 * mutated, so the input document (and anything a write stored, such as a pushed item) stays
 * as it was, and untouched parts stay shared.
 */
class Draft {
  private readonly owned = new Set<Container>()

  constructor(public root: RecordDocument) {}

  /** Sets the value at `path`, creating objects for missing (or null) parents. */
  set(path: string, segments: readonly string[], value: unknown): void {
    if (value === undefined) throw new RecordOpError(path, `the value for ${path} is missing`)
    let node: Container = (this.root = this.own(this.root) as RecordDocument)
    const last = segments.length - 1
    for (let i = 0; i < last; i++) {
      const seg = segments[i] as string
      if (Array.isArray(node)) {
        const index = arrayIndex(node, seg, path, segments, i)
        node = node[index] = this.descend(node[index], segments, i, path)
      } else {
        node = node[seg] = this.descend(own(node, seg), segments, i, path)
      }
    }
    const seg = segments[last] as string
    if (Array.isArray(node)) node[arrayIndex(node, seg, path, segments, last)] = value
    else node[seg] = value
  }

  /** Removes the key (or array item, shifting the rest); a missing path changes nothing. */
  unset(segments: readonly string[]): void {
    if (!exists(this.root, segments)) return
    let node: Container = (this.root = this.own(this.root) as RecordDocument)
    const last = segments.length - 1
    for (let i = 0; i < last; i++) {
      const seg = segments[i] as string
      const parent = node as Record<string, unknown>
      node = parent[seg] = this.own(parent[seg] as Container)
    }
    const seg = segments[last] as string
    if (Array.isArray(node)) node.splice(Number(seg), 1)
    else delete node[seg]
  }

  /** The container to write into below `segments[i]`: missing or null parents become objects. */
  private descend(child: unknown, segments: readonly string[], i: number, path: string): Container {
    if (child === undefined || child === null) {
      const made = {}
      this.owned.add(made)
      return made
    }
    if (typeof child === 'object') return this.own(child as Container)
    const at = segments.slice(0, i + 1).join('.')
    throw new RecordOpError(path, `cannot set ${path}: ${at} is a ${typeof child}`)
  }

  private own(node: Container): Container {
    if (this.owned.has(node)) return node
    const copy = Array.isArray(node) ? node.slice() : { ...node }
    this.owned.add(copy)
    return copy
  }
}

/** Whether `segments` names an existing key or array item (own properties only). */
function exists(doc: unknown, segments: readonly string[]): boolean {
  let node = doc
  for (const seg of segments) {
    if (typeof node !== 'object' || node === null) return false
    if (Array.isArray(node) ? !isIndexSegment(seg) || Number(seg) >= node.length : !Object.hasOwn(node, seg))
      return false
    node = (node as Record<string, unknown>)[seg]
  }
  return true
}

function own(node: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined
}

function arrayIndex(node: unknown[], seg: string, path: string, segments: readonly string[], i: number): number {
  const at = segments.slice(0, i + 1).join('.')
  if (!isIndexSegment(seg))
    throw new RecordOpError(
      path,
      `cannot set ${path}: ${segments.slice(0, i).join('.') || 'the document'} is an array and ${seg} is not an index`,
    )
  const index = Number(seg)
  if (index > node.length)
    throw new RecordOpError(path, `cannot set ${path}: ${at} is past the end of the array (length ${node.length})`)
  return index
}
