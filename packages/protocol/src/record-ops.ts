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

const INDEX = /^(0|[1-9][0-9]{0,8})$/

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

export function applyUpdate(doc: RecordDocument, ops: UpdateOps): RecordDocument {
  let out = doc
  for (const [path, by] of Object.entries(ops.increment ?? {})) {
    if (typeof by !== 'number' || !Number.isFinite(by))
      throw new RecordOpError(path, `increment of ${path} must be a finite number`)
    const current = getIn(out, segmentsOf(path))
    if (current !== undefined && typeof current !== 'number') throw new RecordOpError(path, `${path} is not a number`)
    const sum = (current ?? 0) + by
    if (!Number.isFinite(sum)) throw new RecordOpError(path, `${path} would overflow`)
    out = setIn(out, path, sum)
  }
  for (const [path, item] of Object.entries(ops.push ?? {})) {
    const current = getIn(out, segmentsOf(path))
    if (current !== undefined && !Array.isArray(current)) throw new RecordOpError(path, `${path} is not an array`)
    out = setIn(out, path, current === undefined ? [item] : [...current, item])
  }
  for (const path of ops.unset ?? []) out = unsetIn(out, path)
  return out
}

/** The value at a dotted path (or the document for ''); undefined when missing. */
export function getPath(doc: unknown, path: string): unknown {
  if (path === '') return doc
  const segments = parsePath(path)
  return segments ? getIn(doc, segments) : undefined
}

export function getIn(doc: unknown, segments: readonly string[]): unknown {
  let node = doc
  for (const seg of segments) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, seg)) return undefined
    // Arrays have items only (not `length`).
    if (Array.isArray(node) && !INDEX.test(seg)) return undefined
    node = (node as Record<string, unknown>)[seg]
  }
  return node
}

/** Sets the value at `path`, creating objects for missing (or null) parents. */
export function setIn(doc: RecordDocument, path: string, value: unknown): RecordDocument {
  if (value === undefined) throw new RecordOpError(path, `the value for ${path} is missing`)
  const segments = segmentsOf(path)
  return write(doc, segments, 0, path, value) as RecordDocument
}

/** Removes the key (or array item) at `path`; a missing path leaves the document as is. */
export function unsetIn(doc: RecordDocument, path: string): RecordDocument {
  const segments = segmentsOf(path)
  return remove(doc, segments, 0) as RecordDocument
}

function segmentsOf(path: string): string[] {
  const segments = parsePath(path)
  if (!segments) throw new RecordOpError(path, `invalid path: ${JSON.stringify(path).slice(0, 100)}`)
  return segments
}

function write(node: Container, segments: readonly string[], i: number, path: string, value: unknown): Container {
  const seg = segments[i] as string
  const last = i === segments.length - 1
  if (Array.isArray(node)) {
    const index = arrayIndex(node, seg, path, segments, i)
    const copy = node.slice()
    copy[index] = last ? value : write(childContainer(node[index], segments, i, path), segments, i + 1, path, value)
    return copy
  }
  const child = last ? value : write(childContainer(own(node, seg), segments, i, path), segments, i + 1, path, value)
  return { ...node, [seg]: child }
}

function remove(node: Container, segments: readonly string[], i: number): Container {
  const seg = segments[i] as string
  const last = i === segments.length - 1
  if (Array.isArray(node)) {
    if (!INDEX.test(seg) || Number(seg) >= node.length) return node
    const index = Number(seg)
    if (last) return node.slice(0, index).concat(node.slice(index + 1))
    const child = node[index]
    if (typeof child !== 'object' || child === null) return node
    const next = remove(child as Container, segments, i + 1)
    if (next === child) return node
    const copy = node.slice()
    copy[index] = next
    return copy
  }
  if (!Object.hasOwn(node, seg)) return node
  if (last) {
    const copy = { ...node }
    delete copy[seg]
    return copy
  }
  const child = node[seg]
  if (typeof child !== 'object' || child === null) return node
  const next = remove(child as Container, segments, i + 1)
  return next === child ? node : { ...node, [seg]: next }
}

function own(node: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined
}

/** The container to descend into: missing or null parents become objects; scalars cannot be descended. */
function childContainer(child: unknown, segments: readonly string[], i: number, path: string): Container {
  if (child === undefined || child === null) return {}
  if (typeof child === 'object') return child as Container
  const at = segments.slice(0, i + 1).join('.')
  throw new RecordOpError(path, `cannot set ${path}: ${at} is a ${typeof child}`)
}

function arrayIndex(node: unknown[], seg: string, path: string, segments: readonly string[], i: number): number {
  const at = segments.slice(0, i + 1).join('.')
  if (!INDEX.test(seg))
    throw new RecordOpError(
      path,
      `cannot set ${path}: ${segments.slice(0, i).join('.') || 'the document'} is an array and ${seg} is not an index`,
    )
  const index = Number(seg)
  if (index > node.length)
    throw new RecordOpError(path, `cannot set ${path}: ${at} is past the end of the array (length ${node.length})`)
  return index
}
