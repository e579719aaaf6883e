import type { ServerLimits } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'

/** Used until a server announces its own (the server defaults), e.g. for servers that do not. */
export const DEFAULT_LIMITS: Readonly<Pick<ServerLimits, 'maxJsonDepth'>> = { maxJsonDepth: 32 }

/** The limits a welcome announced, keeping only sane values (defaults for the rest). */
export function announcedLimits(value: unknown): Partial<ServerLimits> {
  const limits: Partial<ServerLimits> = { ...DEFAULT_LIMITS }
  if (typeof value !== 'object' || value === null) return limits
  for (const key of ['maxMessageBytes', 'maxJsonDepth', 'maxUpdateOps'] as const) {
    const n = (value as Record<string, unknown>)[key]
    if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) limits[key] = n
  }
  return limits
}

/**
 * Encodes an outgoing message, refusing what the server would refuse anyway, so that every
 * failure is a SwitchboardError that settles its request: data nested deeper than the
 * server's `maxJsonDepth` (INVALID_DATA; also what keeps JSON.stringify from overflowing the
 * stack), values JSON cannot encode (INVALID_DATA) and frames over `maxMessageBytes`
 * (TOO_LARGE: the server would refuse them, or its WebSocket layer would close the connection).
 */
export function encodeOutgoing(message: object, limits: Partial<ServerLimits> = DEFAULT_LIMITS): string {
  // The message itself is one level above its data (`d`, `a`, `ops` entries are at most one more).
  const maxDepth = (limits.maxJsonDepth ?? DEFAULT_LIMITS.maxJsonDepth) + 1
  if (nestedDeeper(message, maxDepth)) {
    throw new SwitchboardError('INVALID_DATA', `data is nested deeper than ${maxDepth - 1} levels`)
  }
  let text: string
  try {
    text = JSON.stringify(message)
  } catch (err) {
    throw new SwitchboardError('INVALID_DATA', `data cannot be sent as JSON: ${(err as Error)?.message ?? err}`)
  }
  const max = limits.maxMessageBytes
  if (max !== undefined && (text.length > max || (text.length * 3 > max && utf8Length(text) > max))) {
    throw new SwitchboardError('TOO_LARGE', `the message is larger than the server's maxMessageBytes (${max} bytes)`)
  }
  return text
}

/** Whether objects or arrays nest more than `maxDepth` levels, without recursion (any depth is safe). */
function nestedDeeper(root: unknown, maxDepth: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }]
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, depth } = item
    if (typeof value !== 'object' || value === null) continue
    if (depth > maxDepth) return true
    const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>)
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 })
    }
  }
  return false
}

/** UTF-8 length of a string (lone surrogates count as 3, as TextEncoder's U+FFFD). */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length
}
