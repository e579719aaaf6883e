/**
 * Ids unique per client instance, for write ids and publication ids: a random prefix and a
 * counter, so making one costs nothing and two clients never share one.
 */
export class UniqueIds {
  private readonly prefix = randomId()
  private count = 0

  next(): string {
    return `${this.prefix}.${(++this.count).toString(36)}`
  }
}

/** 9 random base-36 characters (from crypto.getRandomValues where there is one). */
export function randomId(): string {
  const bytes = new Uint8Array(9)
  const crypto = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes)
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256)
  let out = ''
  for (const b of bytes) out += (b % 36).toString(36)
  return out
}
