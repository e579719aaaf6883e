import type { Logger } from '../../log.js'
import type { CommittedWrites } from '../committed-writes.js'
import type { RedisKeys } from './keys.js'
import type { RedisConnection } from './redis-connection.js'

/** As long as a node remembers its own recent writes. */
const KEEP_MS = 60_000

/** Committed write ids in Redis: one key per write, expiring after a minute. */
export class RedisCommittedWrites implements CommittedWrites {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly log: Logger,
  ) {}

  remember(key: string, version: number): void {
    const k = this.keys.committedWrite(key)
    this.redis
      .command(k, ['SET', k, String(version), 'PX', String(KEEP_MS)])
      .catch((err: unknown) => this.log.warn({ err }, 'recording a committed write id failed'))
  }

  async lookup(key: string): Promise<number | undefined> {
    const k = this.keys.committedWrite(key)
    const version = await this.redis.command<string | null>(k, ['GET', k])
    return version === null ? undefined : Number(version)
  }
}
