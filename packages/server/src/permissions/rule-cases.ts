import { isValidName, isValidPattern } from '@switchboard/protocol'
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { AuthUser } from '../auth/authenticator.js'
import type { ConfigIssue } from '../config/issues.js'
import { readUserFile } from '../config/read-text.js'
import type { AccessRequest } from './access-policy.js'
import { ACTIONS, isActionOf, isKind } from './actions.js'
import { compileRulesFile, displayName } from './load-rules.js'
import type { Decision } from './rules-policy.js'

/** One row of a cases file: who does what to which name, and the expected answer. */
export interface RuleCase {
  description?: string
  request: AccessRequest
  expect: 'allow' | 'deny'
  file: string
  line: number
}

export interface CaseOutcome {
  case: RuleCase
  decision: Decision
  passed: boolean
}

const CASE_KEYS = new Set(['description', 'user', 'kind', 'action', 'name', 'data', 'old', 'expect'])

/**
 * `switchboard rules test`: compiles the rules file, reads the cases file (a list, or
 * `{ cases: [...] }`) and evaluates every case. Problems in either file come back as issues
 * (and no case runs); otherwise every outcome, passed or not.
 */
export function runRuleCases(rulesFile: string, casesFile: string): { issues: ConfigIssue[]; outcomes: CaseOutcome[] } {
  const { policy, issues } = compileRulesFile(rulesFile)
  const cases = readCases(casesFile)
  if (!policy || cases.issues.length > 0) return { issues: [...issues, ...cases.issues], outcomes: [] }
  const outcomes = cases.cases.map((c): CaseOutcome => {
    const decision = policy.explain(c.request)
    return { case: c, decision, passed: decision.allowed === (c.expect === 'allow') }
  })
  return { issues: [], outcomes }
}

export function readCases(file: string): { cases: RuleCase[]; issues: ConfigIssue[] } {
  const label = displayName(file)
  const { text, issue } = readUserFile(file, 'cases file', { label })
  if (issue) return { cases: [], issues: [issue] }
  const lines = new LineCounter()
  const doc: Document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const lineOf = (node: Node | null | undefined) => lines.linePos(node?.range?.[0] ?? 0).line
  if (doc.errors.length > 0) {
    return {
      cases: [],
      issues: doc.errors.map((err) => {
        const { line, col } = lines.linePos(err.pos[0])
        return { path: '', file: label, line, column: col, message: `YAML: ${err.message}` }
      }),
    }
  }
  let list = doc.contents as Node | null
  if (isMap(list)) list = (list.get('cases', true) as Node | undefined) ?? null
  if (!isSeq(list)) {
    return {
      cases: [],
      issues: [
        { path: '', file: label, line: lineOf(doc.contents), message: 'expected a list of cases (or cases: [ … ])' },
      ],
    }
  }
  const cases: RuleCase[] = []
  const issues: ConfigIssue[] = []
  list.items.forEach((item, i) => {
    const line = lineOf(item as Node)
    const problem = (message: string) => issues.push({ path: `cases.${i}`, file: label, line, message })
    const value: unknown = (item as Node).toJSON()
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return problem('expected a mapping')
    const c = value as Record<string, unknown>
    const unknown = Object.keys(c).filter((k) => !CASE_KEYS.has(k))
    if (unknown.length > 0) return problem(`unknown key ${unknown.join(', ')} (expected ${[...CASE_KEYS].join(', ')})`)
    if (!isKind(c.kind)) return problem(`kind must be one of ${Object.keys(ACTIONS).join(', ')}`)
    if (!isActionOf(c.kind, c.action))
      return problem(`action must be one of ${ACTIONS[c.kind].join(', ')} for ${c.kind}`)
    if (!isValidName(c.name) && !isValidPattern(c.name))
      return problem('name must be a valid name (segments of A-Z a-z 0-9 _ . : @ - separated by /)')
    if (c.expect !== 'allow' && c.expect !== 'deny') return problem('expect must be allow or deny')
    const user = c.user ?? null
    if (
      user !== null &&
      (typeof user !== 'object' || Array.isArray(user) || typeof (user as { id?: unknown }).id !== 'string')
    ) {
      return problem('user must be null (anonymous) or a mapping with a string id')
    }
    const request = {
      kind: c.kind,
      action: c.action,
      name: c.name,
      user: user as AuthUser | null,
      data: c.data ?? null,
      old: c.old ?? null,
    } as AccessRequest
    const rc: RuleCase = { request, expect: c.expect, file: label, line }
    if (typeof c.description === 'string') rc.description = c.description
    cases.push(rc)
  })
  return { cases, issues }
}
