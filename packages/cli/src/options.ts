import { existsSync } from 'node:fs'
import { InvalidArgumentError, Option } from 'commander'

/** Used when `--config` is not given and the file exists in the working directory. */
export const DEFAULT_CONFIG_FILE = 'switchboard.yaml'

export function configOption(): Option {
  return new Option('-c, --config <file>', `config file (default: ./${DEFAULT_CONFIG_FILE} if present)`)
}

/** The config file to read: the explicit one, else ./switchboard.yaml if present, else none. */
export function configFile(explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined
}

export function parsePort(value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('expected a port number 0-65535')
  return port
}
