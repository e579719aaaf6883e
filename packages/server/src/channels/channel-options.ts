import { compareSpecificity, compilePattern } from '@switchboard/protocol'
import type { ChannelOptions } from '../config/types.js'
import type { HistoryOptions } from '../engine/broker.js'

const NO_HISTORY: HistoryOptions = Object.freeze({ size: 0, ttlMs: 0 })

/** Resolves a channel's options from config: the most specific matching pattern wins. Cached per name. */
export class ChannelOptionsResolver {
  private readonly rules: { match: (name: string) => boolean; options: ChannelOptions }[]
  private readonly cache = new Map<string, HistoryOptions>()

  constructor(config: Record<string, ChannelOptions>) {
    this.rules = Object.keys(config)
      .sort(compareSpecificity)
      .map((p) => {
        const pattern = compilePattern(p)
        return { match: (n: string) => pattern.matches(n), options: config[p] as ChannelOptions }
      })
  }

  history(channel: string): HistoryOptions {
    let h = this.cache.get(channel)
    if (h) return h
    h = this.rules.find((r) => r.match(channel))?.options.history ?? NO_HISTORY
    if (this.cache.size > 100_000) this.cache.clear()
    this.cache.set(channel, h)
    return h
  }
}
