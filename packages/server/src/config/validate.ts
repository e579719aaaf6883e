import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'
import { isIndexSegment, isValidName, isValidPattern, MAX_INDEX_SEGMENTS, parsePath } from '@switchboard/protocol'
import { trustProxyIssue } from '../http/client-address.js'
import { ConfigError, formatPath, sortIssues, type ConfigIssue } from './issues.js'
import {
  ConfigSchema,
  isEnum,
  isTaggedUnion,
  PATTERN_KEYS,
  UNIT_KEY,
  type PathSegment,
  type SchemaNode,
} from './config-schema.js'
import type { SwitchboardConfigInput } from './types.js'
import { parseDuration, parseSize } from './units.js'

/** Where a problem sits: the key itself (unknown or invalid keys) or its value. */
export type IssueTarget = 'key' | 'value'

/** Position information for an issue; supplied by the loader, which knows the YAML document. */
export type IssueLocation = Pick<ConfigIssue, 'file' | 'line' | 'column' | 'source'>

export interface ConfigSource {
  locate(path: readonly PathSegment[], target: IssueTarget): IssueLocation | undefined
}

/** An issue before it is located: the path stays a list so keys with dots remain unambiguous. */
export interface RawIssue {
  path: PathSegment[]
  message: string
  target: IssueTarget
}

const compiled = TypeCompiler.Compile(ConfigSchema)
// Variants of tagged unions, compiled on first use to explain why a `storage`/`engine` fails.
const variantChecks = new WeakMap<object, TypeCheck<TSchema>>()

/**
 * Validates a config input object. Returns every issue (empty when valid), each with a
 * dotted path and, when `source` can locate it, file/line/column or the env var it came from.
 */
export function validateConfig(value: unknown, source?: ConfigSource): ConfigIssue[] {
  return sortIssues(findIssues(value).map((raw) => locateIssue(raw, source)))
}

/** Throws a ConfigError listing every issue; for configs passed in code (`createServer`). */
export function assertValidConfig(value: unknown, source?: ConfigSource): asserts value is SwitchboardConfigInput {
  const issues = validateConfig(value, source)
  if (issues.length > 0) throw new ConfigError(issues)
}

export function locateIssue(raw: RawIssue, source?: ConfigSource): ConfigIssue {
  const location = source?.locate(raw.path, raw.target)
  return { path: formatPath(raw.path), message: raw.message, ...location }
}

export function findIssues(value: unknown): RawIssue[] {
  if (compiled.Check(value)) {
    return [...patternKeyIssues(value), ...trustProxyIssues(value), ...engineIssues(value), ...collectionIssues(value)]
  }
  const issues = explain(compiled, value, [])
  // Pattern keys and collections are checked too when the rest is broken, so one run reports everything.
  if (isObject(value)) issues.push(...patternKeyIssues(value), ...engineIssues(value), ...collectionIssues(value))
  return issues
}

function explain(check: TypeCheck<TSchema>, value: unknown, base: PathSegment[]): RawIssue[] {
  const out: RawIssue[] = []
  const seen = new Set<string>()
  for (const error of check.Errors(value)) {
    // A missing required property yields two errors on the same path; keep the first.
    if (seen.has(error.path)) continue
    seen.add(error.path)
    out.push(...describe(error, [...base, ...decodePointer(error.path)]))
  }
  return out
}

function describe(error: ValueError, path: PathSegment[]): RawIssue[] {
  const schema = error.schema as SchemaNode
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return [{ path: path.slice(0, -1), target: 'value', message: `missing required key "${path.at(-1)}"` }]
    case ValueErrorType.ObjectAdditionalProperties:
      return [{ path, target: 'key', message: unknownKeyMessage(String(path.at(-1)), error, path) }]
    case ValueErrorType.Union:
      return describeUnion(schema, error.value, path)
    default:
      return [{ path, target: 'value', message: `${lowerFirst(error.message)}, got ${show(error.value)}` }]
  }
}

function describeUnion(schema: SchemaNode, value: unknown, path: PathSegment[]): RawIssue[] {
  const unit = schema[UNIT_KEY]
  if (unit) {
    try {
      if (unit === 'size') parseSize(value as number | string)
      else parseDuration(value as number | string)
    } catch (e) {
      return [{ path, target: 'value', message: (e as Error).message }]
    }
  }
  if (isEnum(schema)) {
    const options = schema.anyOf.map((v) => JSON.stringify(v.const)).join(', ')
    return [{ path, target: 'value', message: `expected one of ${options}, got ${show(value)}` }]
  }
  if (isTaggedUnion(schema)) {
    const types = schema.anyOf.map((v) => v.properties?.type?.const as string)
    if (!isObject(value)) {
      return [
        { path, target: 'value', message: `expected an object with a type (${types.join(', ')}), got ${show(value)}` },
      ]
    }
    const variant = schema.anyOf.find((v) => v.properties?.type?.const === value.type)
    if (!variant) {
      const message =
        value.type === undefined
          ? `missing required key "type" (one of ${types.map((t) => JSON.stringify(t)).join(', ')})`
          : `expected one of ${types.map((t) => JSON.stringify(t)).join(', ')}, got ${show(value.type)}`
      return [{ path: value.type === undefined ? path : [...path, 'type'], target: 'value', message }]
    }
    return explain(variantCheck(variant), value, path)
  }
  const kinds = (schema.anyOf ?? []).map((v) =>
    v.type === 'array' ? `a list of ${v.items?.type ?? 'value'}s` : v.type,
  )
  return [{ path, target: 'value', message: `expected ${kinds.join(' or ')}, got ${show(value)}` }]
}

function variantCheck(variant: SchemaNode): TypeCheck<TSchema> {
  let check = variantChecks.get(variant)
  if (!check) {
    check = TypeCompiler.Compile(variant as unknown as TSchema)
    variantChecks.set(variant, check)
  }
  return check
}

function unknownKeyMessage(key: string, error: ValueError, path: PathSegment[]): string {
  // error.schema is the closed object; its properties are the keys that would be accepted.
  const allowed = Object.keys((error.schema as SchemaNode).properties ?? {})
  const near = allowed.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2)
  if (near) return `unknown key (did you mean "${near}"?)`
  if (path.length === 1 || allowed.length <= 12) return `unknown key (expected one of ${allowed.join(', ')})`
  return 'unknown key'
}

function patternKeyIssues(value: Record<string, unknown>): RawIssue[] {
  const out: RawIssue[] = []
  for (const [key, node] of Object.entries(ConfigSchema.properties)) {
    const what = (node as SchemaNode)[PATTERN_KEYS]
    const record = value[key]
    if (!what || !isObject(record)) continue
    for (const name of Object.keys(record)) {
      if (!isValidPattern(name)) {
        out.push({
          path: [key, name],
          target: 'key',
          message: `invalid ${what} ${JSON.stringify(name)} (segments of A-Z a-z 0-9 _ . : @ - separated by /; * or ** for wildcards)`,
        })
      }
    }
  }
  return out
}

/** `/channels/chat~1**\/history` → ['channels', 'chat/**', 'history']. */
function decodePointer(pointer: string): PathSegment[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  const text = JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
    }
    prev = row
  }
  return prev[b.length] as number
}

/** Each `server.trustProxy` entry must be an address, a CIDR block or a preset. */
function trustProxyIssues(value: SwitchboardConfigInput): RawIssue[] {
  return (value.server?.trustProxy ?? []).flatMap((entry, i) => {
    const problem = trustProxyIssue(entry)
    return problem ? [{ path: ['server', 'trustProxy', i], target: 'value' as const, message: problem }] : []
  })
}

/** `engine: { type: redis }` names one Redis server (`url`) or a Redis Cluster (`cluster`): exactly one. */
function engineIssues(value: Record<string, unknown>): RawIssue[] {
  const engine = value.engine
  if (!isObject(engine) || engine.type !== 'redis') return []
  if (engine.url !== undefined && engine.cluster !== undefined) {
    return [{ path: ['engine', 'cluster'], target: 'key', message: 'give url (one Redis server) or cluster, not both' }]
  }
  if (engine.url === undefined && engine.cluster === undefined) {
    return [
      {
        path: ['engine'],
        target: 'value',
        message: 'engine type redis needs url (one Redis server) or cluster (Redis Cluster seed nodes)',
      },
    ]
  }
  return []
}

/** `collections`: keys are collection names, index entries record paths a query may use. */
function collectionIssues(value: Record<string, unknown>): RawIssue[] {
  const out: RawIssue[] = []
  const collections = value.collections
  if (!isObject(collections)) return out
  for (const [name, collection] of Object.entries(collections)) {
    if (!isValidName(name)) {
      out.push({
        path: ['collections', name],
        target: 'key',
        message: `invalid collection name ${JSON.stringify(name)} (segments of A-Z a-z 0-9 _ . : @ - separated by /)`,
      })
    }
    const indexes = isObject(collection) ? collection.indexes : undefined
    if (!Array.isArray(indexes)) continue
    indexes.forEach((paths: unknown, i) => {
      if (!Array.isArray(paths)) return
      paths.forEach((path: unknown, j) => {
        if (typeof path !== 'string') return
        const segments = parsePath(path)
        const problem = !segments
          ? 'is not a record path (dotted, non-empty segments; no __proto__, prototype or constructor)'
          : segments.filter(isIndexSegment).length > MAX_INDEX_SEGMENTS
            ? `has more than ${MAX_INDEX_SEGMENTS} numeric segments`
            : undefined
        if (problem) {
          out.push({
            path: ['collections', name, 'indexes', i, j],
            target: 'value',
            message: `${JSON.stringify(path)} ${problem}`,
          })
        }
      })
    })
  }
  return out
}
