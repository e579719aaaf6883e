import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { LineCounter, parseDocument, type Document } from 'yaml'
import { coerce, nest, readEnvOverrides } from './env.js'
import { ConfigError, type ConfigIssue } from './issues.js'
import { locateInDocument } from './locate.js'
import { readUserFile } from './read-text.js'
import { ConfigValueError, resolveConfig } from './resolve.js'
import { schemaAt, type PathSegment } from './config-schema.js'
import type { SwitchboardConfigInput } from './types.js'
import { findIssues, locateIssue, type ConfigSource, type RawIssue } from './validate.js'

export { ConfigError } from './issues.js'

export interface LoadConfigOptions {
  /** YAML config file; omitted = zero config (defaults, env vars and overrides only). */
  file?: string
  /** Source of `SWITCHBOARD_*` overrides and `env:NAME` values; default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Applied last, e.g. from CLI flags. */
  overrides?: SwitchboardConfigInput
  /** How issues in `overrides` name their origin; default `overrides`. */
  overridesSource?: string
}

/** Loads one YAML file plus `SWITCHBOARD_*` env overrides; see `loadConfig`. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): SwitchboardConfigInput {
  return loadConfig({ file, env })
}

/**
 * Merges file → `SWITCHBOARD_*` env vars → overrides, replaces `env:NAME` strings, validates
 * (including units, via `resolveConfig`, and settings this version cannot run, such as
 * `engine: redis`) and returns the input object. Throws a ConfigError
 * listing every problem with its file, line and column (or env var) when anything is wrong.
 */
export function loadConfig(options: LoadConfigOptions = {}): SwitchboardConfigInput {
  const env = options.env ?? process.env
  const origins = new Origins()
  const issues: RawIssue[] = []
  const extra: ConfigIssue[] = []
  let parsed: ParsedFile | undefined

  let config: Record<string, unknown> = {}
  if (options.file !== undefined) {
    parsed = parseFile(options.file)
    config = parsed.value
  }

  const fromEnv = readEnvOverrides(env)
  extra.push(...fromEnv.issues)
  for (const o of fromEnv.overrides) {
    config = merge(config, nest(o.path, o.value))
    origins.add(o.path, o.variable)
  }
  if (options.overrides) {
    // A copy: env:NAME substitution below must not write into the caller's object.
    config = merge(config, structuredClone(options.overrides))
    for (const path of leafPaths(options.overrides)) origins.add(path, options.overridesSource ?? 'overrides')
  }

  issues.push(...substituteEnv(config, [], env))

  const source = makeSource(parsed, origins)
  issues.push(...findIssues(config))
  if (issues.length === 0 && extra.length === 0) {
    try {
      resolveConfig(config)
    } catch (e) {
      if (!(e instanceof ConfigValueError)) throw e
      issues.push({ path: e.path, message: e.reason, target: 'value' })
    }
  }
  const all = [...extra, ...issues.map((raw) => locateIssue(raw, source))]
  if (all.length > 0) throw new ConfigError(sortByOrigin(all))
  return config
}

interface ParsedFile {
  file: string
  label: string
  doc: Document
  lines: LineCounter
  value: Record<string, unknown>
}

function parseFile(file: string): ParsedFile {
  const label = displayName(file)
  const { text, issue } = readUserFile(file, 'config file', { label })
  if (issue) throw new ConfigError([issue])
  const lines = new LineCounter()
  // prettyErrors off: we print our own `file:line:col` prefix, not yaml's code excerpt.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((err) => {
        const { line, col } = lines.linePos(err.pos[0])
        return { path: '', file: label, line, column: col, message: `YAML: ${err.message}` }
      }),
    )
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 100 }) ?? {}
  } catch (err) {
    // Well-formed YAML that cannot become a value: an alias to no anchor, too many aliases.
    const { line, col } = lines.linePos(doc.contents?.range?.[0] ?? 0)
    throw new ConfigError([{ path: '', file: label, line, column: col, message: `YAML: ${(err as Error).message}` }])
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    const { line, col } = lines.linePos(doc.contents?.range?.[0] ?? 0)
    throw new ConfigError([
      { path: '', file: label, line, column: col, message: 'expected a mapping of config keys at the top level' },
    ])
  }
  const config = value as Record<string, unknown>
  resolveFilePaths(config, dirname(resolve(file)))
  return { file, label, doc, lines, value: config }
}

/** Keys holding file paths: relative ones in a config file mean relative to that file. */
function resolveFilePaths(config: Record<string, unknown>, dir: string): void {
  const fix = (holder: unknown, key: string) => {
    if (!isPlainObject(holder)) return
    const v = holder[key]
    if (typeof v === 'string' && v !== '' && !v.startsWith('env:') && v !== ':memory:' && !isAbsolute(v)) {
      holder[key] = resolve(dir, v)
    }
  }
  fix(config, 'permissions')
  const storage = config.storage
  if (isPlainObject(storage) && storage.type === 'sqlite') fix(storage, 'path')
  const auth = config.auth
  if (isPlainObject(auth)) fix(auth.jwt, 'jwksFile')
  const schemas = config.schemas
  if (isPlainObject(schemas)) for (const key of Object.keys(schemas)) fix(schemas, key)
}

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/

/** Replaces `env:NAME` strings in place, coerced to the type the schema expects there. */
function substituteEnv(value: unknown, path: PathSegment[], env: NodeJS.ProcessEnv): RawIssue[] {
  const issues: RawIssue[] = []
  const entries: [PathSegment, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : isPlainObject(value)
      ? Object.entries(value)
      : []
  for (const [key, child] of entries) {
    const childPath = [...path, key]
    if (typeof child !== 'string') {
      issues.push(...substituteEnv(child, childPath, env))
      continue
    }
    const ref = ENV_REF.exec(child)
    if (!ref) continue
    const name = ref[1] as string
    const raw = env[name]
    if (raw === undefined) {
      issues.push({ path: childPath, target: 'value', message: `environment variable ${name} is not set` })
      continue
    }
    const schema = schemaAt(childPath)
    const coerced = schema ? coerce(schema, raw) : { value: raw }
    if ('error' in coerced) {
      issues.push({ path: childPath, target: 'value', message: `environment variable ${name}: ${coerced.error}` })
      continue
    }
    ;(value as Record<PathSegment, unknown>)[key] = coerced.value
  }
  return issues
}

/** Remembers which paths were set by env vars or overrides, so their issues name that origin. */
class Origins {
  private readonly entries: { path: string[]; source: string }[] = []

  add(path: readonly PathSegment[], source: string): void {
    this.entries.push({ path: path.map(String), source })
  }

  /** The origin of the value at `path`: the latest setter of it or of an ancestor. */
  of(path: readonly PathSegment[]): string | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as { path: string[]; source: string }
      if (e.path.length <= path.length && e.path.every((s, j) => s === String(path[j]))) return e.source
    }
    return undefined
  }

  /** Some setter below `path` (an object that only env vars created). */
  below(path: readonly PathSegment[]): string | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as { path: string[]; source: string }
      if (e.path.length > path.length && path.every((s, j) => String(s) === e.path[j])) return e.source
    }
    return undefined
  }
}

function makeSource(parsed: ParsedFile | undefined, origins: Origins): ConfigSource {
  return {
    locate(path, target) {
      // A value set by an env var (or an object an env var reshaped) is that variable's fault.
      const origin = origins.of(path) ?? origins.below(path)
      if (origin) return { source: origin }
      if (!parsed) return undefined
      const found = locateInDocument(parsed.doc, parsed.lines, path, target)
      return found
        ? { file: parsed.label, line: found.position.line, column: found.position.column }
        : { file: parsed.label }
    },
  }
}

/** File issues first (in file order), then env vars and overrides. */
function sortByOrigin(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (i: ConfigIssue) => (i.file ? 0 : 1)
  return issues
    .map((issue, n) => ({ issue, n }))
    .sort(
      (a, b) =>
        rank(a.issue) - rank(b.issue) ||
        (a.issue.line ?? 0) - (b.issue.line ?? 0) ||
        (a.issue.column ?? 0) - (b.issue.column ?? 0) ||
        a.n - b.n,
    )
    .map((x) => x.issue)
}

/**
 * Deep merge where later wins; lists are replaced, not concatenated. An object whose `type`
 * changes (storage/engine) is replaced whole, so `sqlite`'s `path` does not leak into `postgres`.
 */
function merge(base: Record<string, unknown>, over: unknown): Record<string, unknown> {
  if (!isPlainObject(over)) return base
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue
    const prev = out[key]
    const next =
      isPlainObject(prev) && isPlainObject(value) && (value.type === undefined || value.type === prev.type)
        ? merge(prev, value)
        : value
    // defineProperty: a key named __proto__ must stay data, never reach the prototype.
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true })
  }
  return out
}

function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (!isPlainObject(value)) return [path]
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .flatMap(([k, v]) => leafPaths(v, [...path, k]))
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Paths inside the cwd print relative (`switchboard.yaml`), others absolute. */
function displayName(file: string): string {
  const abs = resolve(file)
  const rel = relative(process.cwd(), abs)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs
}
