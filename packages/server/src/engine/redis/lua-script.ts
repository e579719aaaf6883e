import { createHash } from 'node:crypto'

/**
 * A Lua script run by its SHA1 (EVALSHA). Every script is loaded into each Redis server as its
 * connection becomes ready, before any other command: a script loaded on first use instead
 * (EVALSHA, NOSCRIPT, EVAL) would run after commands sent behind it, out of call order.
 */
export class LuaScript {
  /** Every script defined, for loading. */
  static readonly all: LuaScript[] = []
  readonly sha: string

  constructor(
    /** For logs and errors. */
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex')
    LuaScript.all.push(this)
  }
}

/**
 * Milliseconds from the Redis server's clock, as a Lua expression prelude: every node reads the
 * same clock, so ttls and expiries do not depend on the nodes' clocks agreeing.
 */
export const REDIS_NOW = `local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)
`
