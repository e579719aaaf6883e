import type { RawIssue } from './validate.js'

/**
 * Settings the schema accepts, so that a config written for a later version reads correctly,
 * but that this version cannot run. `createServer` refuses them; reporting them while loading
 * lets `switchboard check` and `start` name the line instead of failing later without one.
 */
export function unavailableIssues(config: Record<string, unknown>): RawIssue[] {
  const engine = config.engine
  if (typeof engine === 'object' && engine !== null && !Array.isArray(engine) && 'type' in engine) {
    if (engine.type === 'redis') {
      return [
        {
          path: ['engine', 'type'],
          target: 'value',
          message: 'the Redis engine is planned, not built in this version: use "memory" (a single node)',
        },
      ]
    }
  }
  return []
}
