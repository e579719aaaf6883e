import { readFileSync } from 'node:fs'
import { compareSpecificity, compilePattern, type NamePattern } from '@switchboard/protocol'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'

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
    const ajv = new Ajv({ allErrors: false, strict: false })
    this.rules = Object.keys(config)
      .sort(compareSpecificity)
      .map((source) => {
        const file = config[source] as string
        let schema: unknown
        try {
          schema = JSON.parse(readFileSync(file, 'utf8'))
        } catch (err) {
          throw new Error(`schemas.${source}: cannot read JSON Schema ${file}: ${(err as Error).message}`)
        }
        try {
          return { pattern: compilePattern(source), file, validate: ajv.compile(schema as object) }
        } catch (err) {
          throw new Error(`schemas.${source}: ${file} is not a valid JSON Schema: ${(err as Error).message}`)
        }
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

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'data does not match its schema'
  const where = error.instancePath || '/'
  if (error.keyword === 'additionalProperties') {
    return `${where} must not have property ${JSON.stringify((error.params as { additionalProperty?: string }).additionalProperty)}`
  }
  return `${where} ${error.message ?? 'is invalid'}`
}
