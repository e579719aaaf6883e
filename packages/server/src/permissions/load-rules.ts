import { isAbsolute, relative, resolve } from 'node:path'
import { compilePattern, type NamePattern } from '@switchboard/protocol'
import { ConfigError, type ConfigIssue } from '../config/issues.js'
import { GLOBAL_PRESENCE } from './actions.js'
import { compileExpression } from './cel.js'
import { readRulesFile, type RuleSource } from './rules-file.js'
import { RulesPolicy, type CompiledRule } from './rules-policy.js'

/**
 * Reads and compiles a permissions file once. Every problem (YAML, unknown kind or action,
 * bad pattern, a rule that does not parse or type-check) is collected with its file, line,
 * column and rule text.
 */
export function compileRulesFile(file: string): { policy?: RulesPolicy; issues: ConfigIssue[] } {
  const label = displayName(file)
  const read = readRulesFile(file, label)
  const compiled = compileRules(read.rules)
  const issues = [...read.issues, ...compiled.issues].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  )
  return issues.length > 0 ? { issues } : { policy: new RulesPolicy(compiled.rules), issues }
}

/** For `createServer`: the policy, or a ConfigError listing every problem. */
export function loadRulesFile(file: string): RulesPolicy {
  const { policy, issues } = compileRulesFile(file)
  if (!policy) throw new ConfigError(issues)
  return policy
}

export function compileRules(sources: readonly RuleSource[]): { rules: CompiledRule[]; issues: ConfigIssue[] } {
  const rules: CompiledRule[] = []
  const issues: ConfigIssue[] = []
  for (const source of sources) {
    const result = compileExpression(source.expression)
    if (result.ok) {
      rules.push({
        source,
        pattern: source.pattern === GLOBAL_PRESENCE ? globalRoom : compilePattern(source.pattern),
        expression: result.compiled,
      })
      continue
    }
    const at = source.position(result.offset)
    issues.push({
      path: `${source.kind}.${quote(source.pattern)}.${source.action}`,
      file: source.file,
      line: at.line,
      column: at.column,
      message: `${result.message} in rule ${JSON.stringify(source.expression)}`,
    })
  }
  return { rules, issues }
}

const globalRoom: NamePattern = {
  source: GLOBAL_PRESENCE,
  wildcards: 0,
  matches: (name) => name === GLOBAL_PRESENCE,
  capture: (name) => (name === GLOBAL_PRESENCE ? [] : null),
}

function quote(segment: string): string {
  return /^[^.\s"]+$/.test(segment) ? segment : JSON.stringify(segment)
}

/** Paths inside the cwd print relative, others absolute (as config errors do). */
export function displayName(file: string): string {
  const abs = resolve(file)
  const rel = relative(process.cwd(), abs)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs
}
