import type { PublicationInfo } from '@switchboard/client'

/** One publication as `useChannel` lists it. */
export interface ChannelMessage<T = unknown> extends PublicationInfo {
  readonly data: T
}

/**
 * `existing` plus `incoming`, each position once, in stream order (offsets within an epoch; a
 * new epoch — the stream was reset — comes after the older one), cut to the newest `limit`.
 * Returns `existing` itself when nothing was added.
 */
export function mergeMessages<T>(
  existing: readonly ChannelMessage<T>[],
  incoming: readonly ChannelMessage<T>[],
  limit: number,
): ChannelMessage<T>[] {
  const seen = new Set(existing.map(key))
  const added = incoming.filter((m) => {
    const k = key(m)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  if (added.length === 0) return existing as ChannelMessage<T>[]
  const epochs: string[] = []
  for (const m of [...existing, ...added]) if (!epochs.includes(m.epoch)) epochs.push(m.epoch)
  const merged = [...existing, ...added].sort(
    (a, b) => epochs.indexOf(a.epoch) - epochs.indexOf(b.epoch) || a.offset - b.offset,
  )
  return merged.length > limit ? merged.slice(merged.length - limit) : merged
}

function key(m: ChannelMessage<unknown>): string {
  return `${m.epoch}:${m.offset}`
}
