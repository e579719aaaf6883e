import { createRequire } from 'node:module'
import { Command } from 'commander'
import { registerCheck } from './commands/check.js'
import { registerRules } from './commands/rules.js'
import { registerStart } from './commands/start.js'
import { registerToken } from './commands/token.js'
import { fail } from './output.js'

/** The `switchboard` command; each subcommand lives in commands/ and registers itself here. */
export function createProgram(): Command {
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string }
  const program = new Command('switchboard')
    .description('Switchboard realtime server')
    .version(version, '-v, --version')
    .showHelpAfterError()
  registerStart(program)
  registerCheck(program)
  registerToken(program)
  registerRules(program)
  return program
}

export async function run(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv)
  } catch (e) {
    // Anything unexpected: one readable line, no stack trace.
    fail(e)
  }
}
