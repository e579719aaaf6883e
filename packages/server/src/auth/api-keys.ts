import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * API keys of trusted backends. Keys are compared as SHA-256 digests with
 * `crypto.timingSafeEqual` (equal lengths, so no length leak), against every configured key
 * without stopping at the first match, so the time taken says nothing about any key.
 */
export class ApiKeys {
  private readonly digests: Buffer[]

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest)
  }

  get size(): number {
    return this.digests.length
  }

  matches(candidate: string): boolean {
    if (this.digests.length === 0) return false
    const d = digest(candidate)
    let found = false
    for (const key of this.digests) found = timingSafeEqual(d, key) || found
    return found
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
