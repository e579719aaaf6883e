import type { SwitchboardConfig } from '../config/types.js'
import type { Logger } from '../log.js'
import { allowAll, type AccessPolicy } from './access-policy.js'
import { loadRulesFile } from './load-rules.js'

/** The policy `permissions` names (its rules compiled once), or allow-all without a file. */
export function configuredPolicy(config: SwitchboardConfig, log: Logger): AccessPolicy {
  if (config.permissions !== null) return loadRulesFile(config.permissions)
  if (config.mode === 'production') {
    log.warn('production mode without a permissions file: every authenticated client may do everything')
  }
  return allowAll
}
