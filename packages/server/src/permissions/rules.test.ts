import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createBackendUser } from '../auth/backend.js'
import type { AuthUser } from '../auth/authenticator.js'
import { ConfigError } from '../config/issues.js'
import type { AccessRequest } from './access-policy.js'
import { compileRulesFile, loadRulesFile } from './load-rules.js'

const dir = mkdtempSync(join(tmpdir(), 'sb-rules-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function rulesFile(text: string): string {
  const file = join(dir, `rules-${++n}.yaml`)
  writeFileSync(file, text)
  return file
}
const policyOf = (text: string) => loadRulesFile(rulesFile(text))
const issuesOf = (text: string) => compileRulesFile(rulesFile(text)).issues

const alice: AuthUser = { id: 'alice', roles: ['member'] }
const bob: AuthUser = { id: 'bob', roles: ['member'] }
const admin: AuthUser = { id: 'root', roles: ['admin'] }
const ch = (
  action: 'subscribe' | 'publish' | 'history',
  name: string,
  user: AuthUser | null,
  data?: unknown,
): AccessRequest => ({
  kind: 'channels',
  action,
  name,
  user,
  ...(data !== undefined && { data }),
})

describe('rule compiler errors', () => {
  it('a syntax error names file, line, column, the rule path and the rule text', () => {
    const issues = issuesOf(`channels:\n  'chat/*':\n    subscribe: 'true'\n    publish: user.id ==\n`)
    expect(issues).toHaveLength(1)
    const [issue] = issues
    expect(issue!.file).toMatch(/rules-\d+\.yaml$/)
    expect(issue!.line).toBe(4)
    expect(issue!.column).toBeGreaterThanOrEqual(14)
    expect(issue!.path).toBe('channels.chat/*.publish')
    expect(issue!.message).toMatch(/^syntax error: .* in rule "user.id =="$/)
  })

  it('points at the exact column inside a quoted rule', () => {
    const [issue] = issuesOf(`records:\n  'todos/*': { write: "user.id = data.owner" }\n`)
    // The rule starts at column 24 (after the opening quote); `=` is its 9th character.
    expect(issue).toMatchObject({ line: 2, column: 24 + 8, path: 'records.todos/*.write' })
    expect(issue!.message).toContain('"user.id = data.owner"')
  })

  it('an unknown variable, a type error and a non-boolean rule are compile errors', () => {
    const issues = issuesOf(
      [
        'channels:',
        "  'a/*': { subscribe: 'usr.id == \"x\"' }",
        "  'b/*': { subscribe: '\"a\" + 1 == 2' }",
        "  'c/*': { subscribe: 'name' }",
        "  'd/*': { subscribe: 'params.id == user.id' }",
      ].join('\n'),
    )
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [2, 'channels.a/*.subscribe'],
      [3, 'channels.b/*.subscribe'],
      [4, 'channels.c/*.subscribe'],
      [5, 'channels.d/*.subscribe'],
    ])
    expect(issues[0]!.message).toContain('Unknown variable: usr')
    expect(issues[1]!.message).toContain('no such overload')
    expect(issues[2]!.message).toContain('must be a boolean expression')
    expect(issues[3]!.message).toContain('type error')
  })

  it('unknown kinds and actions, bad patterns, non-string rules and YAML errors are reported with lines', () => {
    const issues = issuesOf(
      [
        'channel:', // 1: unknown kind
        "  'x': { subscribe: 'true' }",
        'channels:',
        "  'chat/*': { subscribe: 'true', read: 'true' }", // 4: unknown action for channels
        "  'bad name': { subscribe: 'true' }", // 5: invalid pattern
        "  'ok/*': { publish: [1, 2] }", // 6: not a string
      ].join('\n'),
    )
    expect(issues.map((i) => i.line)).toEqual([1, 4, 5, 6])
    expect(issues[0]!.message).toMatch(/unknown kind/)
    expect(issues[1]!.message).toMatch(
      /unknown action for channels \(expected one of subscribe, publish, history, listen\)/,
    )
    expect(issues[2]!.message).toMatch(/invalid name pattern/)
    expect(issues[3]!.message).toMatch(/expected a CEL expression/)
    expect(issuesOf('channels: [\n')[0]!.message).toMatch(/^YAML: /)
    expect(issuesOf("channels:\n  'a': { subscribe: 'true' }\n  'a': { publish: 'true' }\n")[0]).toMatchObject({
      line: 3,
    })
  })

  it('loadRulesFile throws a ConfigError listing every problem; a missing file is one problem', () => {
    expect(() => policyOf("rpc:\n  'x': { call: '(' }\n  'y': { provide: ')' }\n")).toThrow(ConfigError)
    try {
      policyOf("rpc:\n  'x': { call: '(' }\n  'y': { provide: ')' }\n")
    } catch (e) {
      expect((e as ConfigError).errors).toHaveLength(2)
      expect((e as ConfigError).message).toMatch(/rules-\d+\.yaml:2:\d+ rpc\.x\.call: syntax error/)
    }
    expect(compileRulesFile(join(dir, 'nope.yaml')).issues[0]!.message).toMatch(
      /cannot read permissions file: file not found/,
    )
  })
})

describe('rule evaluation', () => {
  it('denies what no rule allows, including other kinds and actions', () => {
    const p = policyOf("channels:\n  'chat/*': { subscribe: 'true' }\n")
    expect(p.allows(ch('subscribe', 'chat/lobby', null))).toBe(true)
    expect(p.allows(ch('publish', 'chat/lobby', alice))).toBe(false)
    expect(p.allows(ch('subscribe', 'news/1', alice))).toBe(false)
    expect(p.allows(ch('subscribe', 'chat/a/b', alice))).toBe(false)
    expect(p.allows({ kind: 'records', action: 'read', name: 'chat/lobby', user: alice })).toBe(false)
  })

  it('the most specific pattern that names the action decides alone; ties go to the earlier one', () => {
    const p = policyOf(
      [
        'channels:',
        "  '**': { subscribe: 'true', publish: 'user != null' }",
        "  'chat/*': { publish: '\"member\" in user.roles' }",
        "  'chat/admins': { subscribe: '\"admin\" in user.roles', publish: '\"admin\" in user.roles' }",
        "  'x/*': { history: 'true' }",
        "  '*/y': { history: 'false' }",
      ].join('\n'),
    )
    // chat/admins: the exact pattern decides both actions, even though ** and chat/* also match.
    expect(p.allows(ch('subscribe', 'chat/admins', alice))).toBe(false)
    expect(p.allows(ch('subscribe', 'chat/admins', admin))).toBe(true)
    expect(p.allows(ch('publish', 'chat/admins', alice))).toBe(false)
    // chat/lobby: chat/* decides publish; subscribe falls back to ** (chat/* does not name it).
    expect(p.allows(ch('publish', 'chat/lobby', alice))).toBe(true)
    expect(p.allows(ch('publish', 'chat/lobby', admin))).toBe(false)
    expect(p.allows(ch('subscribe', 'chat/lobby', null))).toBe(true)
    // other/1: only ** matches.
    expect(p.allows(ch('publish', 'other/1', null))).toBe(false)
    expect(p.allows(ch('publish', 'other/1', admin))).toBe(true)
    // x/y: x/* and */y are equally specific; the earlier in the file wins.
    expect(p.allows(ch('history', 'x/y', alice))).toBe(true)
  })

  it('params are the wildcard captures, in order; ** captures several segments', () => {
    const p = policyOf(
      [
        'channels:',
        "  'users/*/inbox': { subscribe: 'user != null && params[0] == user.id' }",
        "  'files/**': { subscribe: 'params[0].startsWith(user.id + \"/\")' }",
      ].join('\n'),
    )
    expect(p.allows(ch('subscribe', 'users/alice/inbox', alice))).toBe(true)
    expect(p.allows(ch('subscribe', 'users/alice/inbox', bob))).toBe(false)
    expect(p.allows(ch('subscribe', 'users/alice/inbox', null))).toBe(false)
    expect(p.allows(ch('subscribe', 'files/alice/a/b', alice))).toBe(true)
    expect(p.allows(ch('subscribe', 'files/alice/a/b', bob))).toBe(false)
  })

  it('an evaluation error denies and never throws (user.id when anonymous, a missing key, a non-boolean)', () => {
    const p = policyOf(
      [
        'channels:',
        "  'a': { publish: 'user.id == \"x\"' }",
        "  'b': { publish: 'data.text.size() < 10' }",
        "  'c': { publish: 'data.flag' }",
      ].join('\n'),
    )
    expect(() => p.allows(ch('publish', 'a', null))).not.toThrow()
    expect(p.allows(ch('publish', 'a', null))).toBe(false)
    expect(p.explain(ch('publish', 'a', null)).error).toMatch(/No such key: id/)
    expect(p.allows(ch('publish', 'b', alice, { other: 1 }))).toBe(false)
    expect(p.allows(ch('publish', 'b', alice, { text: 'hi' }))).toBe(true)
    expect(p.allows(ch('publish', 'c', alice, { flag: 'yes' }))).toBe(false)
    expect(p.allows(ch('publish', 'c', alice, { flag: true }))).toBe(true)
  })

  it('data rules are evaluated every time; user-and-name rules are cached per user object', () => {
    const p = policyOf(
      ['channels:', "  'r/*': { subscribe: '\"reader\" in user.roles', publish: 'size(data) < 3' }"].join('\n'),
    )
    const user: AuthUser = { id: 'u', roles: ['reader'] }
    expect(p.allows(ch('subscribe', 'r/1', user))).toBe(true)
    ;(user.roles as string[]).length = 0 // claims never change in place; a refresh makes a new object
    expect(p.allows(ch('subscribe', 'r/1', user))).toBe(true) // cached for this user object
    expect(p.allows(ch('subscribe', 'r/1', { id: 'u', roles: [] }))).toBe(false) // a new object asks again
    expect(p.allows(ch('publish', 'r/1', user, [1, 2]))).toBe(true)
    expect(p.allows(ch('publish', 'r/1', user, [1, 2, 3]))).toBe(false)
  })

  it('API-key backends bypass the rules; a user claiming to be one does not', () => {
    const p = policyOf("channels:\n  'x': { publish: 'false' }\n")
    expect(p.allows(ch('publish', 'x', createBackendUser()))).toBe(true)
    expect(p.allows(ch('publish', 'nothing/matches', createBackendUser()))).toBe(true)
    expect(p.allows(ch('publish', 'x', { id: 'backend', backend: true }))).toBe(false)
  })
})

/**
 * The SPEC §3 rules for records, RPC and presence, checked through the AccessPolicy seam the
 * records, RPC and presence handlers call (their end-to-end attack tests live with them).
 */
describe('records, RPC and presence rules (SPEC §3 example)', () => {
  const p = policyOf(
    [
      'records:',
      "  'todos/*': { read: 'user != null && (old == null || old.owner == user.id)', write: 'user.id == data.owner && (old == null || old.owner == user.id)', delete: 'user.id == old.owner' }",
      'rpc:',
      "  'math/*': { provide: '\"worker\" in user.roles', call: 'true' }",
      'presence:',
      "  '**': { join: 'user != null && data.userId == user.id', read: 'true' }",
    ].join('\n'),
  )
  const rec = (
    action: 'read' | 'write' | 'delete',
    user: AuthUser | null,
    data: unknown,
    old: unknown,
  ): AccessRequest => ({
    kind: 'records',
    action,
    name: 'todos/1',
    user,
    data,
    old,
  })

  it("reading, writing or deleting another user's record is denied", () => {
    const alices = { owner: 'alice', title: 't' }
    expect(p.allows(rec('read', alice, null, alices))).toBe(true)
    expect(p.allows(rec('read', bob, null, alices))).toBe(false)
    expect(p.allows(rec('write', alice, { owner: 'alice', title: 'u' }, alices))).toBe(true)
    expect(p.allows(rec('write', bob, { owner: 'bob', title: 'mine now' }, alices))).toBe(false)
    expect(p.allows(rec('write', bob, { owner: 'alice', title: 'forged' }, alices))).toBe(false)
    expect(p.allows(rec('delete', bob, null, alices))).toBe(false)
    expect(p.allows(rec('delete', alice, null, alices))).toBe(true)
    expect(p.allows(rec('write', null, { owner: 'alice' }, null))).toBe(false)
  })

  it('providing a protected RPC name needs the role; calling is open', () => {
    const worker: AuthUser = { id: 'w', roles: ['worker'] }
    expect(p.allows({ kind: 'rpc', action: 'provide', name: 'math/add', user: worker })).toBe(true)
    expect(p.allows({ kind: 'rpc', action: 'provide', name: 'math/add', user: alice })).toBe(false)
    expect(p.allows({ kind: 'rpc', action: 'provide', name: 'math/add', user: null })).toBe(false)
    expect(p.allows({ kind: 'rpc', action: 'call', name: 'math/add', user: null })).toBe(true)
    expect(p.allows({ kind: 'rpc', action: 'provide', name: 'admin/wipe', user: worker })).toBe(false)
  })

  it('the global presence room has its own key, $global; ** covers it too', () => {
    const q = policyOf("presence:\n  '$global': { read: 'user != null' }\n  '**': { read: 'true', join: 'true' }\n")
    expect(q.allows({ kind: 'presence', action: 'read', name: '$global', user: null })).toBe(false)
    expect(q.allows({ kind: 'presence', action: 'read', name: '$global', user: alice })).toBe(true)
    expect(q.allows({ kind: 'presence', action: 'join', name: '$global', user: null })).toBe(true)
    expect(q.allows({ kind: 'presence', action: 'read', name: 'chat/lobby', user: null })).toBe(true)
    expect(issuesOf("channels:\n  '$global': { subscribe: 'true' }\n")[0]!.message).toMatch(/invalid name pattern/)
  })

  it("joining presence under another user's id is denied", () => {
    expect(
      p.allows({ kind: 'presence', action: 'join', name: 'chat/lobby', user: alice, data: { userId: 'alice' } }),
    ).toBe(true)
    expect(
      p.allows({ kind: 'presence', action: 'join', name: 'chat/lobby', user: alice, data: { userId: 'bob' } }),
    ).toBe(false)
    expect(p.allows({ kind: 'presence', action: 'join', name: 'chat/lobby', user: null, data: { userId: null } })).toBe(
      false,
    )
    expect(p.allows({ kind: 'presence', action: 'read', name: 'chat/lobby', user: null })).toBe(true)
  })
})

describe('collection read scopes (live queries share evaluations by them)', () => {
  const policy = policyOf(`records:
  'todos/*':        { read: 'true' }
  'notes/*':        { read: 'old.owner == user.id' }
  'mixed/*':        { read: 'old.public == true' }
  'mixed/special':  { read: 'user != null' }
  'deep/**':        { read: 'name != ""' }
  'users/*/inbox/*': { read: 'params[0] == "x"' }
`)

  it('tells shared, per-user and uncovered collections apart', () => {
    expect(policy.collectionReadScope('todos')).toBe('shared')
    expect(policy.collectionReadScope('notes')).toBe('per-user')
    // One record's own rule reads the user: the whole collection is per-user.
    expect(policy.collectionReadScope('mixed')).toBe('per-user')
    expect(policy.collectionReadScope('deep')).toBe('shared')
    expect(policy.collectionReadScope('deep/a/b')).toBe('shared')
    expect(policy.collectionReadScope('users/x/inbox')).toBe('shared')
    expect(policy.collectionReadScope('users/x')).toBe('none')
    expect(policy.collectionReadScope('todos/1')).toBe('none')
    expect(policy.collectionReadScope('other')).toBe('none')
  })
})
