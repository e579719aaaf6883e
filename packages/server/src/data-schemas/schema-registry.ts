import { readFileSync } from 'node:fs'
import { compareSpecificity, compilePattern, type NamePattern } from '@switchboard/protocol'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { formatIssue, type ConfigIssue } from '../config/issues.js'
import type { SwitchboardConfigInput } from '../config/types.js'

interface Rule {
  pattern: NamePattern
  file: string
  validate: ValidateFunction
}

/**
 * User JSON Schemas from config (`schemas: { 'todos/*': ./schemas/todo.json }`), compiled once
 * at start with ajv. A name is checked against the most specific matching pattern only; names
 * that no pattern matches are not checked. Enforced on record writes (the resulting document)
 * and on channel publishes (the published data).
 */
export class SchemaRegistry {
  private readonly rules: Rule[]
  private readonly cache = new Map<string, Rule | null>()

  /** Reads and compiles every schema file; throws an Error naming the file when one is unusable. */
  constructor(config: Record<string, string>) {
    const ajv = newAjv()
    this.rules = Object.keys(config)
      .sort(compareSpecificity)
      .map((source) => {
        const rule = compileRule(ajv, source, config[source] as string)
        if ('issue' in rule) throw new Error(formatIssue(rule.issue))
        return rule
      })
  }

  get size(): number {
    return this.rules.length
  }

  /** Null when `data` is acceptable for `name`; otherwise why not, naming the path (`/title must be string`). */
  check(name: string, data: unknown): string | null {
    if (this.rules.length === 0) return null
    const rule = this.ruleFor(name)
    if (!rule || rule.validate(data)) return null
    return describe(rule.validate.errors?.[0])
  }

  private ruleFor(name: string): Rule | null {
    let rule = this.cache.get(name)
    if (rule !== undefined) return rule
    rule = this.rules.find((r) => r.pattern.matches(name)) ?? null
    if (this.cache.size > 100_000) this.cache.clear()
    this.cache.set(name, rule)
    return rule
  }
}

/**
 * What `new SchemaRegistry(config.schemas)` would refuse, one issue per schema file (for
 * `switchboard check`): unreadable files, invalid JSON (with its line and column), schemas ajv
 * cannot compile, bad patterns.
 */
export function schemaConfigIssues(input: SwitchboardConfigInput): ConfigIssue[] {
  const schemas = input.schemas ?? {}
  const ajv = newAjv()
  const issues: ConfigIssue[] = []
  for (const source of Object.keys(schemas)) {
    const rule = compileRule(ajv, source, schemas[source] as string)
    if ('issue' in rule) issues.push(rule.issue)
  }
  return issues
}

const newAjv = () => new Ajv({ allErrors: false, strict: false })

function compileRule(ajv: Ajv, source: string, file: string): Rule | { issue: ConfigIssue } {
  const path = `schemas.${source}`
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    return { issue: { path, file, message: `cannot read JSON Schema: ${(err as Error).message}` } }
  }
  let schema: unknown
  try {
    schema = JSON.parse(text)
  } catch (err) {
    // V8 quotes a snippet of the text (newlines and all): keep the message to one line.
    const message = (err as Error).message.replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, '')
    return {
      issue: {
        path,
        file,
        ...lineAndColumn(text, jsonErrorOffset(text)),
        message: `JSON Schema is not JSON: ${message}`,
      },
    }
  }
  let pattern: NamePattern
  try {
    pattern = compilePattern(source)
  } catch (err) {
    return { issue: { path, message: `invalid name pattern: ${(err as Error).message}` } }
  }
  try {
    return { pattern, file, validate: ajv.compile(schema as object) }
  } catch (err) {
    return { issue: { path, file, message: `not a valid JSON Schema: ${(err as Error).message}` } }
  }
}

/**
 * Where JSON.parse fails, as an offset: V8 names a position for some errors only, so find the
 * shortest prefix that fails for a reason other than ending too early.
 */
function jsonErrorOffset(text: string): number | undefined {
  const failsInside = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length))
      return false
    } catch (err) {
      const message = (err as Error).message
      if (message.includes('end of JSON input')) return false
      const at = /at position (\d+)/.exec(message)
      return !at || Number(at[1]) < length
    }
  }
  if (!failsInside(text.length)) return undefined
  let lo = 0 // a prefix this long does not fail inside
  let hi = text.length // a prefix this long does
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1
    if (failsInside(mid)) hi = mid
    else lo = mid
  }
  return hi - 1
}

function lineAndColumn(text: string, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined) return {}
  const before = text.slice(0, offset)
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') }
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'data does not match its schema'
  const where = error.instancePath || '/'
  if (error.keyword === 'additionalProperties') {
    return `${where} must not have property ${JSON.stringify((error.params as { additionalProperty?: string }).additionalProperty)}`
  }
  return `${where} ${error.message ?? 'is invalid'}`
}
