import type { Logger } from 'pino'
import type { Authenticator } from './auth/authenticator.js'
import { authConfigIssues, createConfiguredAuthenticator, type AuthenticatorOptions } from './auth/configured.js'
import { ConfigError, type ConfigIssue } from './config/issues.js'
import { resolveConfig } from './config/resolve.js'
import type { SwitchboardConfig, SwitchboardConfigInput } from './config/types.js'
import type { AccessPolicy } from './permissions/access-policy.js'
import { compileRulesFile } from './permissions/load-rules.js'
import { configuredPolicy } from './permissions/configured-policy.js'

export interface SecurityParts {
  authenticator: Authenticator
  policy: AccessPolicy
}

/**
 * Security as a whole, for the composition root and `switchboard check`: the authenticator
 * (auth/) and the permission policy (permissions/) from config, and the production-mode
 * refusals that need both.
 */

/**
 * Builds the authenticator and the permission policy from config (unless the embedder passed
 * its own) and refuses unsafe production setups. Throws a ConfigError naming the key, file and
 * line of every problem, so `createServer` fails before it listens.
 */
export function setupSecurity(
  input: SwitchboardConfigInput,
  config: SwitchboardConfig,
  given: { authenticator?: Authenticator; policy?: AccessPolicy },
  log: Logger,
  options: AuthenticatorOptions = {},
): SecurityParts {
  const modeIssues = productionIssues(input, config, {
    customAuth: !!given.authenticator,
    customPolicy: !!given.policy,
  })
  if (modeIssues.length > 0) throw new ConfigError(modeIssues)
  const authenticator = given.authenticator ?? createConfiguredAuthenticator(config, log, options)
  const policy = given.policy ?? configuredPolicy(config, log)
  return { authenticator, policy }
}

/**
 * Production refuses what development tolerates:
 * - anonymous access with no permissions file (anyone could do anything), unless
 *   `auth.anonymous: true` is written explicitly;
 * - an HMAC secret shorter than 32 bytes.
 */
export function productionIssues(
  input: SwitchboardConfigInput,
  config: SwitchboardConfig,
  custom: { customAuth: boolean; customPolicy: boolean } = { customAuth: false, customPolicy: false },
): ConfigIssue[] {
  if (config.mode !== 'production') return []
  const issues: ConfigIssue[] = []
  const openToAnyone =
    !custom.customAuth && config.auth.anonymous && !custom.customPolicy && config.permissions === null
  if (openToAnyone && input.auth?.anonymous !== true) {
    issues.push({
      path: 'auth.anonymous',
      message:
        'production mode refuses anonymous access without a permissions file (anyone could do anything): ' +
        'set `permissions`, or `auth.anonymous: false` with auth.jwt/webhook/apiKeys, ' +
        'or write `auth.anonymous: true` explicitly to accept an open server',
    })
  }
  const jwksUrl = config.auth.jwt?.jwksUrl
  if (!custom.customAuth && jwksUrl !== undefined && plainHttpToAnotherHost(jwksUrl)) {
    issues.push({
      path: 'auth.jwt.jwksUrl',
      message: 'production mode needs an https URL (keys fetched over plain http could be replaced on the way)',
    })
  }
  const secret = config.auth.jwt?.secret
  if (!custom.customAuth && secret !== undefined && Buffer.byteLength(secret) < 32) {
    issues.push({
      path: 'auth.jwt.secret',
      message: 'production mode needs a secret of at least 32 bytes (openssl rand -base64 48)',
    })
  }
  return issues
}

/** An http: URL to anything but this machine (an invalid URL is reported by the JWT setup). */
function plainHttpToAnotherHost(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url)
    return protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(hostname)
  } catch {
    return false
  }
}

/**
 * Everything `setupSecurity` would refuse, as a list (for `switchboard check`): bad JWT keys
 * or algorithms, permission rules that do not parse, unsafe production settings.
 */
export function securityConfigIssues(input: SwitchboardConfigInput): ConfigIssue[] {
  const config = resolveConfig(input)
  const issues = [...productionIssues(input, config), ...authConfigIssues(config)]
  if (config.permissions !== null) issues.push(...compileRulesFile(config.permissions).issues)
  return issues
}
