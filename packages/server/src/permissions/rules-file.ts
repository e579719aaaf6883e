import { isValidPattern } from '@switchboard/protocol'
import { isMap, isScalar, LineCounter, parseDocument, Scalar, type Node } from 'yaml'
import type { ConfigIssue } from '../config/issues.js'
import { readUserFile } from '../config/read-text.js'
import { ACTIONS, GLOBAL_PRESENCE, isActionOf, isKind, type Action, type Kind } from './actions.js'

/** One rule as written: where it is, and the CEL text. */
export interface RuleSource {
  kind: Kind
  pattern: string
  action: Action
  expression: string
  file: string
  line: number
  column: number
  /** Maps an offset in `expression` to a file position, when the YAML scalar allows it. */
  position(offset: number): { line: number; column: number }
}

/**
 * Reads a permissions file (SPEC §3): `kind → pattern → action → CEL expression`, where an
 * expression may also be a YAML boolean. Returns every rule with its position, and every
 * structural problem (unknown kind or action, bad pattern, non-string rule) as an issue.
 */
export function readRulesFile(file: string, label = file): { rules: RuleSource[]; issues: ConfigIssue[] } {
  const { text, issue } = readUserFile(file, 'permissions file', { label, path: 'permissions' })
  if (issue) return { rules: [], issues: [issue] }
  return parseRules(text, label)
}

export function parseRules(text: string, file: string): { rules: RuleSource[]; issues: ConfigIssue[] } {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const issues: ConfigIssue[] = []
  const at = (node: Node | null | undefined) => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0)
    return { file, line, column: col }
  }
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const { line, col } = lines.linePos(err.pos[0])
      issues.push({ path: '', file, line, column: col, message: `YAML: ${err.message}` })
    }
    return { rules: [], issues }
  }
  const rules: RuleSource[] = []
  const root = doc.contents
  if (root === null || (isScalar(root) && root.value === null)) return { rules, issues }
  if (!isMap(root)) {
    issues.push({ path: '', ...at(root), message: `expected a mapping of ${Object.keys(ACTIONS).join(', ')}` })
    return { rules, issues }
  }
  for (const kindPair of root.items) {
    const kindKey = keyOf(kindPair.key)
    if (!isKind(kindKey)) {
      issues.push({
        path: String(kindKey),
        ...at(kindPair.key as Node),
        message: `unknown kind (expected one of ${Object.keys(ACTIONS).join(', ')})`,
      })
      continue
    }
    const patterns = kindPair.value as Node | null
    if (patterns === null || (isScalar(patterns) && patterns.value === null)) continue
    if (!isMap(patterns)) {
      issues.push({ path: kindKey, ...at(patterns), message: 'expected a mapping of name patterns to rules' })
      continue
    }
    for (const patternPair of patterns.items) {
      const pattern = String(keyOf(patternPair.key))
      const path = `${kindKey}.${quote(pattern)}`
      if (!isValidPattern(pattern) && !(kindKey === 'presence' && pattern === GLOBAL_PRESENCE)) {
        issues.push({
          path,
          ...at(patternPair.key as Node),
          message: 'invalid name pattern (segments of A-Z a-z 0-9 _ . : @ - separated by /; * or ** for wildcards)',
        })
        continue
      }
      const actions = patternPair.value as Node | null
      if (!isMap(actions)) {
        issues.push({
          path,
          ...at(actions ?? (patternPair.key as Node)),
          message: `expected a mapping of actions (${ACTIONS[kindKey].join(', ')}) to CEL rules`,
        })
        continue
      }
      for (const actionPair of actions.items) {
        const action = keyOf(actionPair.key)
        const actionPath = `${path}.${String(action)}`
        if (!isActionOf(kindKey, action)) {
          issues.push({
            path: actionPath,
            ...at(actionPair.key as Node),
            message: `unknown action for ${kindKey} (expected one of ${ACTIONS[kindKey].join(', ')})`,
          })
          continue
        }
        const value = actionPair.value as Node | null
        if (!isScalar(value) || (typeof value.value !== 'string' && typeof value.value !== 'boolean')) {
          issues.push({
            path: actionPath,
            ...at(value ?? (actionPair.key as Node)),
            message: 'expected a CEL expression (a string) or true/false',
          })
          continue
        }
        const expression = String(value.value)
        const start = at(value)
        rules.push({
          kind: kindKey,
          pattern,
          action,
          expression,
          ...start,
          position: (offset) =>
            positionIn(value, expression, offset, lines) ?? { line: start.line, column: start.column },
        })
      }
    }
  }
  return { rules, issues }
}

/** A file position for an offset in the expression, when the scalar is written verbatim. */
function positionIn(
  node: Scalar,
  expression: string,
  offset: number,
  lines: LineCounter,
): { line: number; column: number } | undefined {
  const range = node.range
  if (!range || expression.includes('\n')) return undefined
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE
  if (node.type !== Scalar.PLAIN && !quoted) return undefined
  // Escapes change lengths; only map offsets when the source is the expression verbatim.
  if (range[1] - range[0] !== expression.length + (quoted ? 2 : 0)) return undefined
  const { line, col } = lines.linePos(range[0] + (quoted ? 1 : 0) + Math.min(offset, expression.length))
  return { line, column: col }
}

function keyOf(node: unknown): unknown {
  return isScalar(node) ? node.value : node
}

function quote(segment: string): string {
  return /^[^.\s"]+$/.test(segment) ? segment : JSON.stringify(segment)
}
