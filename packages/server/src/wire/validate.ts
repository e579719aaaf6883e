import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { ClientMessage } from '@switchboard/protocol'

export type CheckResult = { ok: true; message: ClientMessage } | { ok: false; id?: number; reason: string }

/**
 * Validates decoded values as client messages: the type tag is switched on first, then one
 * check compiled once per type. The schemas come from the concept modules.
 */
export class MessageValidator {
  private readonly checks: ReadonlyMap<string, TypeCheck<TSchema>>

  constructor(schemas: Readonly<Record<string, TSchema>>) {
    this.checks = new Map(Object.entries(schemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]))
  }

  /** Never throws. */
  check(value: unknown): CheckResult {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, reason: 'a message must be a JSON object' }
    }
    const record = value as Record<string, unknown>
    const id = Number.isSafeInteger(record.id) && (record.id as number) >= 0 ? (record.id as number) : undefined
    const t = record.t
    const check = typeof t === 'string' ? this.checks.get(t) : undefined
    if (!check) return { ok: false, id, reason: `unknown message type ${JSON.stringify(t)?.slice(0, 40)}` }
    if (check.Check(value)) return { ok: true, message: value as ClientMessage }
    const first = check.Errors(value).First()
    return { ok: false, id, reason: first ? `${t}${first.path || ''}: ${first.message}` : `invalid ${t} message` }
  }
}
