/**
 * Checks user data before it is stored or fanned out: nesting depth (deep structures are a
 * cheap way to make every consumer's parser work hard) and `__proto__` keys (harmless in
 * JSON.parse output, dangerous the moment someone merges the object). Returns a reason or null.
 */
export function checkData(value: unknown, maxDepth: number): string | null {
  return walk(value, 0, maxDepth)
}

function walk(value: unknown, depth: number, maxDepth: number): string | null {
  if (typeof value !== 'object' || value === null) return null
  if (depth >= maxDepth) return `data is nested deeper than ${maxDepth} levels`
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = walk(value[i], depth + 1, maxDepth)
      if (r) return r
    }
    return null
  }
  for (const key in value) {
    if (key === '__proto__') return 'data contains a "__proto__" key'
    const r = walk((value as Record<string, unknown>)[key], depth + 1, maxDepth)
    if (r) return r
  }
  return null
}
