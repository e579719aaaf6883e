import { Option, type Command } from 'commander'
import {
  createServer,
  loadConfig,
  resolveConfig,
  type SwitchboardConfigInput,
  type SwitchboardServer,
} from '@switchboard/server'
import cluster from 'node:cluster'
import { configFile, configOption, parsePort } from '../options.js'
import { developmentWarning, fail, say } from '../output.js'
import { parseWorkers, READY_MESSAGE, runPrimary, SHUTDOWN_MESSAGE, workerIndex } from '../workers.js'

interface StartOptions {
  config?: string
  port?: number
  host?: string
  production?: boolean
  workers?: number
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the server (no config needed: development mode on port 7070)')
    .addOption(configOption())
    .addOption(new Option('-p, --port <port>', 'port to listen on (0 = any free port)').argParser(parsePort))
    .addOption(new Option('-H, --host <host>', 'address to listen on'))
    .addOption(new Option('--production', 'production mode (also set by NODE_ENV=production)'))
    .addOption(
      new Option(
        '-w, --workers <n>',
        'run n processes on one port (auto = one per core), joined through the engine (engine: redis)',
      ).argParser(parseWorkers),
    )
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
  const worker = workerIndex()
  if (worker === undefined && opts.workers !== undefined && opts.workers > 1) {
    if (input.engine?.type !== 'redis') {
      fail(
        new Error(
          `--workers ${opts.workers} needs a cluster engine: set engine: { type: redis, url: redis://… } in the config. ` +
            'With the in-process engine every worker would be a separate server with its own channels, presence and RPC.',
        ),
      )
    }
    runPrimary(opts.workers)
    return
  }
  // Workers share the config; a configured node id gets the worker's index so each is unique.
  if (worker !== undefined && input.engine?.type === 'redis' && input.engine.nodeId !== undefined) {
    input = { ...input, engine: { ...input.engine, nodeId: `${input.engine.nodeId}-${worker}` } }
  }
  const config = resolveConfig(input)
  if (config.mode === 'development' && (worker === undefined || worker === 0)) {
    process.stderr.write(
      `${developmentWarning({ anonymous: config.auth.anonymous, permissions: config.permissions })}\n`,
    )
  }

  const server = createServer(input)
  // Handlers go in before listen so a signal during start-up still drains cleanly.
  handleSignals(server)
  try {
    const { url } = await server.listen()
    say(`${worker === undefined ? '' : `worker ${worker} `}listening on ${url} (${config.mode} mode)`)
    if (worker !== undefined) process.send?.(READY_MESSAGE)
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
 * elsewhere, spread over `server.drain.windowMs`; a second signal exits now. Workers told to stop
 * by their primary (`--workers`: every process of this host stops together) close at once:
 * their clients have no sibling to move to, so spreading them out would only delay the stop.
 */
function handleSignals(server: SwitchboardServer): void {
  let closing = false
  const onSignal = (signal: NodeJS.Signals, drain = true) => {
    if (closing) {
      say(`${signal} again: exiting without waiting for the drain`)
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1))
    }
    closing = true
    say(`${signal} received: draining connections (send it again to exit at once)`)
    server.close({ drain }).then(
      () => {
        say('stopped')
        process.exit(0)
      },
      (e: unknown) => fail(e),
    )
  }
  process.on('SIGTERM', (signal) => onSignal(signal))
  process.on('SIGINT', (signal) => onSignal(signal))
  if (cluster.isWorker) {
    // The primary asks for a stop by message (a terminal's Ctrl-C also signals every worker
    // directly: that one is the first signal, not a second). A primary that vanished stops us too.
    const stop = () => {
      if (!closing) onSignal('SIGTERM', false)
    }
    process.on('message', (m) => {
      if (m === SHUTDOWN_MESSAGE) stop()
    })
    process.on('disconnect', stop)
  }
}
