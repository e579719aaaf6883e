import { compareSpecificity, type NamePattern } from '@switchboard/protocol'
import type { AuthUser } from '../auth/authenticator.js'
import { isBackend } from '../auth/backend.js'
import type { AccessPolicy, AccessRequest, CollectionReadScope, ReadScopes } from './access-policy.js'
import type { CompiledExpression } from './cel.js'
import type { RuleSource } from './rules-file.js'

export interface CompiledRule {
  source: RuleSource
  pattern: NamePattern
  expression: CompiledExpression
}

/** Why a request was allowed or denied (for `switchboard rules test` and debugging). */
export interface Decision {
  allowed: boolean
  /** The rule that decided; absent when no rule matched (denied by default) or for backends. */
  rule?: RuleSource
  /** The evaluation error that made the rule deny, if any. */
  error?: string
  backend?: boolean
}

/** Answers cached per user object (and one shared table for anonymous requests). */
const MAX_CACHED_PER_USER = 1024
const MAX_CACHED_ANONYMOUS = 10_000

/**
 * Permission rules compiled once (see load-rules.ts). For a request, the rules that name its
 * kind and action are tried from the most specific pattern to the least (compareSpecificity;
 * ties in file order) and the first whose pattern matches the name decides alone. No matching
 * rule: denied. API-key backends are always allowed.
 *
 * Rules that read neither `data` nor `old` depend only on the user and the name, so their
 * answers are cached per user object. A session's user object is replaced when its token is
 * refreshed, which drops that cache.
 */
export class RulesPolicy implements AccessPolicy, ReadScopes {
  private readonly byAction = new Map<string, CompiledRule[]>()
  private readonly userCache = new WeakMap<AuthUser, Map<string, boolean>>()
  private readonly anonymousCache = new Map<string, boolean>()

  constructor(rules: readonly CompiledRule[]) {
    for (const rule of rules) {
      const key = `${rule.source.kind}.${rule.source.action}`
      const list = this.byAction.get(key) ?? []
      list.push(rule)
      this.byAction.set(key, list)
    }
    // Array.prototype.sort is stable: equally specific patterns keep their file order.
    for (const list of this.byAction.values())
      list.sort((a, b) => compareSpecificity(a.source.pattern, b.source.pattern))
  }

  get size(): number {
    let n = 0
    for (const list of this.byAction.values()) n += list.length
    return n
  }

  allows(request: AccessRequest): boolean {
    const { user } = request
    if (user !== null && isBackend(user)) return true
    const key = `${request.kind}.${request.action}\n${request.name}`
    const cache = user === null ? this.anonymousCache : this.userCache.get(user)
    const hit = cache?.get(key)
    if (hit !== undefined) return hit
    const found = this.find(request)
    if (!found) return false
    const allowed = found.rule.expression.evaluate(context(request, found.params)).allowed
    if (!found.rule.expression.usesData) this.remember(user, key, allowed)
    return allowed
  }

  /**
   * Looks at every `records.read` rule whose pattern could match a record of the collection
   * (`<collection>/<any segment>`): none → `none`; any of them reading `user` → `per-user`.
   */
  collectionReadScope(collection: string): CollectionReadScope {
    const candidates = (this.byAction.get('records.read') ?? []).filter((r) =>
      couldMatchChild(r.source.pattern, collection),
    )
    if (candidates.length === 0) return 'none'
    return candidates.some((r) => r.expression.usesUser) ? 'per-user' : 'shared'
  }

  /** Like `allows`, with the deciding rule and any evaluation error; never cached. */
  explain(request: AccessRequest): Decision {
    if (request.user !== null && isBackend(request.user)) return { allowed: true, backend: true }
    const found = this.find(request)
    if (!found) return { allowed: false }
    const result = found.rule.expression.evaluate(context(request, found.params))
    return { ...result, rule: found.rule.source }
  }

  private find(request: AccessRequest): { rule: CompiledRule; params: string[] } | undefined {
    const rules = this.byAction.get(`${request.kind}.${request.action}`)
    if (!rules) return undefined
    for (const rule of rules) {
      const params = rule.pattern.capture(request.name)
      if (params) return { rule, params }
    }
    return undefined
  }

  private remember(user: AuthUser | null, key: string, allowed: boolean): void {
    if (user === null) {
      if (this.anonymousCache.size >= MAX_CACHED_ANONYMOUS) this.anonymousCache.clear()
      this.anonymousCache.set(key, allowed)
      return
    }
    let cache = this.userCache.get(user)
    if (!cache) this.userCache.set(user, (cache = new Map()))
    else if (cache.size >= MAX_CACHED_PER_USER) cache.clear()
    cache.set(key, allowed)
  }
}

function context(request: AccessRequest, params: string[]) {
  return {
    user: request.user,
    name: request.name,
    params,
    data: request.data ?? null,
    old: 'old' in request ? (request.old ?? null) : null,
  }
}

/** Whether `pattern` matches some name `<collection>/<segment>` (the last segment is free). */
export function couldMatchChild(pattern: string, collection: string): boolean {
  const pat = pattern.split('/')
  const parts = collection.split('/')
  const free = parts.length // index of the free segment
  const match = (pi: number, ni: number): boolean => {
    if (pi === pat.length) return ni === free + 1
    const seg = pat[pi]
    if (seg === '**') {
      for (let end = ni + 1; end <= free + 1; end++) if (match(pi + 1, end)) return true
      return false
    }
    if (ni > free) return false
    if (seg !== '*' && ni < free && seg !== parts[ni]) return false
    return match(pi + 1, ni + 1)
  }
  return match(0, 0)
}
