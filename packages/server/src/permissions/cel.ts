import { Environment, type ASTNode } from '@marcbachmann/cel-js'

/**
 * CEL for permission rules, with @marcbachmann/cel-js (an AST interpreter: no eval, no
 * new Function). Variables are declared, so a misspelt one (`usr.id`) is a compile error;
 * `params` is a list of strings (the pattern's wildcard captures, in order).
 */
const env = new Environment({
  unlistedVariablesAreDyn: false,
  // Rules are short; these bound what a pathological rule can cost to parse and check.
  limits: { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 },
})
  .registerVariable('user', 'dyn', { description: 'the authenticated user { id, ...claims }, or null when anonymous' })
  .registerVariable('name', 'string', { description: 'the channel, record, RPC or presence name' })
  .registerVariable('params', 'list<string>', { description: "the pattern's wildcard captures, in order" })
  .registerVariable('data', 'dyn', { description: 'the incoming data (publish, write, call, join), else null' })
  .registerVariable('old', 'dyn', { description: 'the current record (records), else null' })

export interface RuleContext {
  user: unknown
  name: string
  params: string[]
  data: unknown
  old: unknown
}

export interface CompiledExpression {
  /** True only when the expression evaluates to exactly `true`; errors and non-booleans deny. */
  evaluate(context: RuleContext): { allowed: boolean; error?: string }
  /** Whether the expression reads `data` or `old` (if not, its answer can be cached per user and name). */
  readonly usesData: boolean
  /** Whether the expression reads `user` (if not, every reader gets the same answer). */
  readonly usesUser: boolean
}

export type CompileResult = { ok: true; compiled: CompiledExpression } | { ok: false; message: string; offset: number }

export function compileExpression(expression: string): CompileResult {
  let program: ReturnType<typeof env.parse>
  try {
    program = env.parse(expression)
  } catch (e) {
    return failure('syntax error', e)
  }
  let checked: ReturnType<typeof program.check>
  try {
    checked = program.check()
  } catch (e) {
    return failure('type error', e)
  }
  if (!checked.valid) return failure('type error', checked.error)
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, message: `a rule must be a boolean expression, this one is a ${checked.type}`, offset: 0 }
  }
  const names = new Set<string>()
  collectIdentifiers(program.ast, names)
  const compiled: CompiledExpression = {
    usesData: names.has('data') || names.has('old'),
    usesUser: names.has('user'),
    evaluate(context) {
      try {
        const value: unknown = program(context as unknown as Record<string, unknown>)
        return value === true
          ? { allowed: true }
          : { allowed: false, ...(value !== false && { error: `the rule returned ${describe(value)}, not a boolean` }) }
      } catch (e) {
        return { allowed: false, error: summary(e) }
      }
    },
  }
  return { ok: true, compiled }
}

function failure(what: string, e: unknown): CompileResult {
  const range = (e as { range?: { start?: number } } | undefined)?.range
  return { ok: false, message: `${what}: ${summary(e)}`, offset: typeof range?.start === 'number' ? range.start : 0 }
}

/** cel-js errors carry a short `summary` and a long message with a source excerpt. */
function summary(e: unknown): string {
  const s = (e as { summary?: unknown } | undefined)?.summary
  if (typeof s === 'string') return s
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`
}

function collectIdentifiers(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const child of node) collectIdentifiers(child, into)
    return
  }
  if (typeof node !== 'object' || node === null || !('op' in node)) return
  const n = node as ASTNode
  if (n.op === 'id') into.add(n.args)
  else collectIdentifiers(n.args, into)
}
