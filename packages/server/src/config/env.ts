import { formatPath, type ConfigIssue } from './issues.js'
import {
  isEnum,
  isTaggedUnion,
  propertiesOf,
  rootSchema,
  UNIT_KEY,
  type PathSegment,
  type SchemaNode,
} from './config-schema.js'

export const ENV_PREFIX = 'SWITCHBOARD_'

/** One `SWITCHBOARD_*` variable, mapped onto a config path with its value coerced. */
export interface EnvOverride {
  variable: string
  path: string[]
  value: unknown
}

/**
 * Reads `SWITCHBOARD_<PATH>` variables. Path segments are joined by `_` and matched
 * case-insensitively against the schema's keys; a camelCase key may be written as one word
 * (`MAXMESSAGEBYTES`) or split at any `_` (`MAX_MESSAGE_BYTES`). Names matching no key, or
 * more than one, are issues naming the variable.
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv): { overrides: EnvOverride[]; issues: ConfigIssue[] } {
  const overrides: EnvOverride[] = []
  const issues: ConfigIssue[] = []
  for (const variable of Object.keys(env).sort()) {
    const raw = env[variable]
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined) continue
    const tokens = variable.slice(ENV_PREFIX.length).split('_')
    const matches = tokens.some((t) => t === '') ? [] : matchPath(tokens, rootSchema)
    if (matches.length !== 1) {
      const message =
        matches.length === 0
          ? `unknown environment variable: no config key matches ${variable}`
          : `ambiguous environment variable: ${variable} matches ${matches.map((m) => formatPath(m.path)).join(' and ')}`
      issues.push({ path: '', source: variable, message })
      continue
    }
    const { path, schema } = matches[0] as Match
    const coerced = coerce(schema, raw)
    if ('error' in coerced) issues.push({ path: formatPath(path), source: variable, message: coerced.error })
    else overrides.push({ variable, path, value: coerced.value })
  }
  return { overrides, issues }
}

interface Match {
  path: string[]
  schema: SchemaNode
}

function matchPath(tokens: string[], node: SchemaNode): Match[] {
  const props = propertiesOf(node)
  if (props.size === 0) return []
  const found = new Map<string, Match>()
  for (let take = 1; take <= tokens.length; take++) {
    const word = tokens.slice(0, take).join('').toLowerCase()
    for (const [key, schemas] of props) {
      if (key.toLowerCase() !== word) continue
      const rest = tokens.slice(take)
      const child = mergeVariants(schemas)
      const matches = rest.length === 0 ? [{ path: [key], schema: child }] : matchPath(rest, child)
      for (const m of matches) {
        const path = rest.length === 0 ? m.path : [key, ...m.path]
        found.set(path.join('\0'), { path, schema: m.schema })
      }
    }
  }
  return [...found.values()]
}

/** A key present in several union variants (`engine.url`): any variant's schema will do. */
function mergeVariants(schemas: SchemaNode[]): SchemaNode {
  return (
    schemas.find((s) => s.const === undefined) ??
    (schemas.length === 1 ? (schemas[0] as SchemaNode) : { anyOf: schemas })
  )
}

export type Coerced = { value: unknown } | { error: string }

/**
 * Turns an env string into the type the schema expects at that key: numbers and booleans by
 * the schema type, JSON for objects and lists (or a comma-separated list of strings). A string
 * that does not fit is passed through so validation reports it with the usual message.
 */
export function coerce(schema: SchemaNode, raw: string): Coerced {
  const text = raw.trim()
  if (schema.type === 'number' || schema.type === 'integer') return { value: toNumber(text) ?? raw }
  if (schema.type === 'boolean') return { value: toBoolean(text) ?? raw }
  if (schema.type === 'string' || schema.const !== undefined || (schema.anyOf && isEnum(schema))) return { value: raw }
  if (schema[UNIT_KEY]) return { value: toNumber(text) ?? raw }
  if (schema.type === 'array') {
    if (text.startsWith('[')) return parseJson(text)
    const items = text.split(',').map((s) => s.trim())
    return { value: items.filter((s) => s !== '').map((s) => (schema.items ? itemValue(schema.items, s) : s)) }
  }
  if (schema.anyOf && !isTaggedUnion(schema)) {
    // string | string[] (jwt issuer/audience): a JSON list, else the plain string.
    return text.startsWith('[') ? parseJson(text) : { value: raw }
  }
  return parseJson(text)
}

function itemValue(schema: SchemaNode, text: string): unknown {
  const c = coerce(schema, text)
  return 'value' in c ? c.value : text
}

function toNumber(text: string): number | undefined {
  return /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : undefined
}

function toBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(t)) return true
  if (['false', '0', 'no', 'off'].includes(t)) return false
  return undefined
}

function parseJson(text: string): Coerced {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch (e) {
    return { error: `expected JSON here (${(e as Error).message})` }
  }
}

/** Builds the nested object `{ a: { b: value } }` for a path. */
export function nest(path: readonly PathSegment[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, seg) => ({ [seg]: inner }), value)
}
