import { Option, type Command } from 'commander'
import { loadConfig, resolveConfig, signDevelopmentToken } from '@switchboard/server'
import { configFile, configOption } from '../options.js'
import { fail } from '../output.js'

export interface TokenOptions {
  config?: string
  user: string
  claims?: string
  expires: string
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('print a development JWT signed with auth.jwt.secret from the config')
    .addOption(configOption())
    .addOption(new Option('-u, --user <id>', "user id (the token's sub)").makeOptionMandatory())
    .addOption(new Option('--claims <json>', 'extra claims as a JSON object, e.g. \'{"roles":["admin"]}\''))
    .addOption(new Option('-e, --expires <duration>', 'lifetime: 30m, 1h, 7d, …').default('1h'))
    .action((opts: TokenOptions) => token(opts))
}

async function token(opts: TokenOptions): Promise<void> {
  try {
    process.stdout.write(`${await mintToken(opts)}\n`)
  } catch (e) {
    fail(e)
  }
}

/** The token `switchboard token` prints; throws a readable error (no secret, bad claims). */
export async function mintToken(opts: TokenOptions): Promise<string> {
  const config = resolveConfig(loadConfig({ file: configFile(opts.config), env: process.env }))
  const claims = opts.claims === undefined ? {} : parseClaims(opts.claims)
  return signDevelopmentToken(config, { user: opts.user, claims, expiresIn: opts.expires })
}

function parseClaims(text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new Error(`--claims is not valid JSON: ${(e as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('--claims must be a JSON object')
  return value as Record<string, unknown>
}
