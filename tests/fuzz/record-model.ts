/**
 * A reference model of record writes, written independently of `@switchboard/protocol`'s
 * record-ops: deep copies and plain mutation, no drafts and no sharing. The fuzz tests compare
 * the real implementation with it; where they disagree, one of them is wrong.
 */
export type Doc = Record<string, unknown>
export interface Ops {
  increment?: Record<string, number>
  push?: Record<string, unknown>
  unset?: string[]
}
export type Write = { kind: 'set'; path?: string; value: unknown } | { kind: 'update'; ops: Ops } | { kind: 'delete' }

export class ModelError extends Error {}

const isIndex = (s: string) => /^(0|[1-9][0-9]{0,8})$/.test(s)
const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

function split(path: string): string[] {
  const parts = path.split('.')
  if (
    path.length === 0 ||
    path.length > 1024 ||
    parts.some((p) => p === '' || ['__proto__', 'prototype', 'constructor'].includes(p))
  )
    throw new ModelError(`invalid path ${path}`)
  return parts
}

function get(doc: unknown, parts: string[]): unknown {
  let node = doc
  for (const p of parts) {
    if (typeof node !== 'object' || node === null) return undefined
    if (Array.isArray(node)) {
      if (!isIndex(p) || Number(p) >= node.length) return undefined
      node = node[Number(p)]
    } else {
      if (!Object.hasOwn(node, p)) return undefined
      node = (node as Doc)[p]
    }
  }
  return node
}

function set(doc: Doc, parts: string[], value: unknown): void {
  if (value === undefined) throw new ModelError('missing value')
  let node: unknown = doc
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string
    const last = i === parts.length - 1
    if (Array.isArray(node)) {
      if (!isIndex(p) || Number(p) > node.length) throw new ModelError('bad index')
      const k = Number(p)
      if (last) node[k] = value
      else {
        if (node[k] === undefined || node[k] === null) node[k] = {}
        else if (typeof node[k] !== 'object') throw new ModelError('not a container')
        node = node[k]
      }
    } else {
      const o = node as Doc
      if (last) o[p] = value
      else {
        const child = Object.hasOwn(o, p) ? o[p] : undefined
        if (child === undefined || child === null) o[p] = {}
        else if (typeof child !== 'object') throw new ModelError('not a container')
        node = o[p]
      }
    }
  }
}

function unset(doc: Doc, parts: string[]): void {
  const parent = parts.length === 1 ? doc : get(doc, parts.slice(0, -1))
  const p = parts[parts.length - 1] as string
  if (Array.isArray(parent)) {
    if (isIndex(p) && Number(p) < parent.length) parent.splice(Number(p), 1)
  } else if (isObject(parent) && Object.hasOwn(parent, p)) delete parent[p]
}

/** The document after `write`, or a ModelError when the write cannot apply. */
export function modelApply(doc: Doc | undefined, write: Write): Doc | undefined {
  if (write.kind === 'delete') return undefined
  if (write.kind === 'set' && write.path === undefined) {
    if (!isObject(write.value)) throw new ModelError('root must be an object')
    return structuredClone(write.value)
  }
  const next = structuredClone(doc ?? {})
  if (write.kind === 'set') {
    set(next, split(write.path as string), structuredClone(write.value))
    return next
  }
  for (const [path, by] of Object.entries(write.ops.increment ?? {})) {
    const parts = split(path)
    const current = get(next, parts)
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new ModelError('bad increment')
    if (current !== undefined && typeof current !== 'number') throw new ModelError('not a number')
    const sum = ((current as number | undefined) ?? 0) + by
    if (!Number.isFinite(sum)) throw new ModelError('overflow')
    set(next, parts, sum)
  }
  for (const [path, item] of Object.entries(write.ops.push ?? {})) {
    const parts = split(path)
    const current = get(next, parts)
    if (current !== undefined && !Array.isArray(current)) throw new ModelError('not an array')
    set(next, parts, [...((current as unknown[] | undefined) ?? []), structuredClone(item)])
  }
  for (const path of write.ops.unset ?? []) unset(next, split(path))
  return next
}
