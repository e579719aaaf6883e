import { compilePattern, type NamePattern } from '@switchboard/protocol'

interface PatternEntry<S> {
  readonly pattern: NamePattern
  readonly members: Set<S>
}

/** Local subscribers by exact channel and by pattern. Pure data structure: no I/O. */
export class SubscriptionIndex<S> {
  private readonly exact = new Map<string, Set<S>>()
  private readonly patterns = new Map<string, PatternEntry<S>>()

  /** Returns true when this is the first local member of that channel or pattern. */
  add(name: string, member: S, isPattern: boolean): boolean {
    if (isPattern) {
      let entry = this.patterns.get(name)
      const first = !entry
      if (!entry) this.patterns.set(name, (entry = { pattern: compilePattern(name), members: new Set() }))
      entry.members.add(member)
      return first
    }
    let set = this.exact.get(name)
    const first = !set
    if (!set) this.exact.set(name, (set = new Set()))
    set.add(member)
    return first
  }

  /** Returns true when the last local member of that channel or pattern left. */
  remove(name: string, member: S, isPattern: boolean): boolean {
    if (isPattern) {
      const entry = this.patterns.get(name)
      if (!entry || !entry.members.delete(member)) return false
      if (entry.members.size > 0) return false
      this.patterns.delete(name)
      return true
    }
    const set = this.exact.get(name)
    if (!set || !set.delete(member)) return false
    if (set.size > 0) return false
    this.exact.delete(name)
    return true
  }

  exactMembers(channel: string): Set<S> | undefined {
    return this.exact.get(channel)
  }

  hasPatterns(): boolean {
    return this.patterns.size > 0
  }

  /** Calls `visit` with the members of every pattern matching `channel`. */
  forEachPatternMatch(channel: string, visit: (members: Set<S>) => void): void {
    for (const entry of this.patterns.values()) if (entry.pattern.matches(channel)) visit(entry.members)
  }

  count(): number {
    let n = 0
    for (const s of this.exact.values()) n += s.size
    for (const e of this.patterns.values()) n += e.members.size
    return n
  }
}
