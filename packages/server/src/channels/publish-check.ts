import type { AuthUser } from '../auth/authenticator.js'
import { SwitchboardError } from '../errors.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import { checkData } from '../wire/data-guard.js'

export interface PublishGuard {
  policy: AccessPolicy
  limits: { maxJsonDepth: number }
  /** JSON Schemas from config, enforced on published data. */
  schemas?: { check(name: string, data: unknown): string | null } | undefined
}

/** What a publish must pass, from a connection or the HTTP API: data guard, schema, `publish` rule. */
export function checkPublish(guard: PublishGuard, user: AuthUser | null, channel: string, data: unknown): void {
  const problem = checkData(data, guard.limits.maxJsonDepth)
  if (problem) throw new SwitchboardError('INVALID_DATA', problem)
  const invalid = guard.schemas?.check(channel, data)
  if (invalid) throw new SwitchboardError('INVALID_DATA', `${channel}: ${invalid}`)
  if (!guard.policy.allows({ kind: 'channels', action: 'publish', name: channel, user, data })) {
    throw new SwitchboardError('PERMISSION_DENIED', `not allowed to publish to ${channel}`)
  }
}
