import { Option, type Command } from 'commander'
import {
  createServer,
  loadConfig,
  resolveConfig,
  type SwitchboardConfigInput,
  type SwitchboardServer,
} from '@switchboard/server'
import { configFile, configOption, parsePort } from '../options.js'
import { developmentWarning, fail, say } from '../output.js'

interface StartOptions {
  config?: string
  port?: number
  host?: string
  production?: boolean
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the server (no config needed: development mode on port 7070)')
    .addOption(configOption())
    .addOption(new Option('-p, --port <port>', 'port to listen on (0 = any free port)').argParser(parsePort))
    .addOption(new Option('-H, --host <host>', 'address to listen on'))
    .addOption(new Option('--production', 'production mode (also set by NODE_ENV=production)'))
    .action((opts: StartOptions) => start(opts))
}

async function start(opts: StartOptions): Promise<void> {
  let input: SwitchboardConfigInput
  try {
    input = loadConfig({
      file: configFile(opts.config),
      env: process.env,
      overrides: overridesFrom(opts),
      overridesSource: 'command line',
    })
  } catch (e) {
    fail(e)
  }
  const config = resolveConfig(input)
  if (config.mode === 'development') {
    process.stderr.write(
      `${developmentWarning({ anonymous: config.auth.anonymous, permissions: config.permissions })}\n`,
    )
  }

  const server = createServer(input)
  // Handlers go in before listen so a signal during start-up still drains cleanly.
  handleSignals(server)
  try {
    const { url } = await server.listen()
    say(`listening on ${url} (${config.mode} mode)`)
  } catch (e) {
    fail(e)
  }
}

function overridesFrom(opts: StartOptions): SwitchboardConfigInput {
  const overrides: SwitchboardConfigInput = {}
  if (opts.port !== undefined || opts.host !== undefined) overrides.server = { port: opts.port, host: opts.host }
  if (opts.production || process.env.NODE_ENV === 'production') overrides.mode = 'production'
  return overrides
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 }

/**
 * First SIGTERM/SIGINT drains: the node stops accepting and tells its clients to reconnect
 * elsewhere, spread over `server.drain.windowMs`; a second signal exits now.
 */
function handleSignals(server: SwitchboardServer): void {
  let closing = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      say(`${signal} again: exiting without waiting for the drain`)
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1))
    }
    closing = true
    say(`${signal} received: draining connections (send it again to exit at once)`)
    server.close({ drain: true }).then(
      () => {
        say('stopped')
        process.exit(0)
      },
      (e: unknown) => fail(e),
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
