/** Each channel's last delivered position: channel → [offset, epoch]. */
export type Positions = Map<string, [offset: number, epoch: string]>

const MAX_ID_CHARS = 16 * 1024

/**
 * The SSE `id:` of a multi-channel stream: every channel's position, so one `Last-Event-ID`
 * resumes them all. Opaque to clients (base64url of `{"chat/a":[12,"epoch"],…}`).
 */
export function encodeEventId(positions: Positions): string {
  return Buffer.from(JSON.stringify(Object.fromEntries(positions))).toString('base64url')
}

/** The positions in a `Last-Event-ID`, or null when it is not one of ours. */
export function decodeEventId(id: string): Positions | null {
  if (id.length === 0 || id.length > MAX_ID_CHARS || !/^[A-Za-z0-9_-]+$/.test(id)) return null
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'))
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const out: Positions = new Map()
  for (const [channel, pos] of Object.entries(value)) {
    if (!Array.isArray(pos) || pos.length !== 2) return null
    const [offset, epoch] = pos as unknown[]
    if (!Number.isSafeInteger(offset) || (offset as number) < 0 || typeof epoch !== 'string' || epoch.length > 64)
      return null
    out.set(channel, [offset as number, epoch])
  }
  return out
}
