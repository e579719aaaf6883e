import type { Command } from 'commander'
import {
  ConfigError,
  formatIssue,
  loadConfig,
  schemaConfigIssues,
  securityConfigIssues,
  type ConfigIssue,
  type SwitchboardConfigInput,
} from '@switchboard/server'
import { configFile, configOption } from '../options.js'

/** A further check on a loaded config (e.g. permission rules); returns its issues. */
export type ConfigCheck = (config: SwitchboardConfigInput) => ConfigIssue[] | Promise<ConfigIssue[]>

/**
 * Checks run after the config itself is valid: JWT keys, permission rules, production safety,
 * record/channel JSON Schemas.
 */
export const checks: ConfigCheck[] = [securityConfigIssues, schemaConfigIssues]

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'validate a config file (and env overrides), its JWT key, its permission rules and its JSON Schemas; prints ok or every error as file:line:col path: message',
    )
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      const issues = await checkConfig(configFile(opts.config))
      if (issues.length === 0) {
        process.stdout.write('ok\n')
        return
      }
      process.stdout.write(issues.map((i) => `${formatIssue(i)}\n`).join(''))
      process.exitCode = 1
    })
}

export async function checkConfig(file: string | undefined): Promise<ConfigIssue[]> {
  let config: SwitchboardConfigInput
  try {
    config = loadConfig({ file, env: process.env })
  } catch (e) {
    if (e instanceof ConfigError) return e.errors
    throw e
  }
  const issues: ConfigIssue[] = []
  for (const check of checks) issues.push(...(await check(config)))
  return issues
}
