import { compilePattern, isValidPattern, type NamePattern } from '@switchboard/protocol'

/**
 * A pattern over user channels, or over an internal stream family (`$records/todos/*`: live
 * queries hear a whole collection). The `$` segment is not a valid name segment, so it is matched
 * literally and the rest as a pattern. Every broker compiles subscription patterns with this.
 */
export function compileStreamPattern(pattern: string): NamePattern {
  if (!pattern.startsWith('$')) return compilePattern(pattern)
  const slash = pattern.indexOf('/')
  const head = pattern.slice(0, slash + 1)
  const rest = compilePattern(pattern.slice(slash + 1))
  return {
    source: pattern,
    wildcards: rest.wildcards,
    matches: (name) => name.startsWith(head) && rest.matches(name.slice(head.length)),
    capture: (name) => (name.startsWith(head) ? rest.capture(name.slice(head.length)) : null),
  }
}

/** Whether `compileStreamPattern` accepts it. */
export function isValidStreamPattern(pattern: string): boolean {
  if (!pattern.startsWith('$')) return isValidPattern(pattern)
  const slash = pattern.indexOf('/')
  return slash > 1 && isValidPattern(pattern.slice(slash + 1))
}
