import { ConfigError } from '@switchboard/server'

/** A status line for humans on stderr; stdout stays for the server's JSON logs. */
export function say(message: string): void {
  process.stderr.write(`switchboard: ${message}\n`)
}

/** Prints an error without a stack trace and exits 1. */
export function fail(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`switchboard: invalid configuration\n${error.message}\n`)
  } else {
    say(`error: ${error instanceof Error ? error.message : String(error)}`)
  }
  process.exit(1)
}

/** The warning printed when the server runs in development mode. */
export function developmentWarning(opts: { anonymous: boolean; permissions: string | null }): string {
  const risks = [
    opts.anonymous ? 'anonymous clients are allowed' : undefined,
    opts.permissions === null ? 'every action is allowed (no permissions file)' : undefined,
  ].filter((r): r is string => r !== undefined)
  const lines = [
    'WARNING: running in DEVELOPMENT mode',
    ...(risks.length > 0 ? [`${risks.join(' and ')}.`] : []),
    'Do not expose this server. For deployments use --production (or NODE_ENV=production)',
    'with a config file that sets auth and permissions.',
  ]
  const width = Math.max(...lines.map((l) => l.length))
  const bar = '!'.repeat(width + 4)
  return [bar, ...lines.map((l) => `! ${l.padEnd(width)} !`), bar].join('\n')
}
