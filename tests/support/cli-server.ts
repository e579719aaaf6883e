import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.js'

/** The built CLI, as users run it (`npm run build` first; tests never rebuild). */
export const CLI = fileURLToPath(new URL('../../packages/cli/bin/switchboard.js', import.meta.url))

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** `switchboard start` in its own process and directory; `stop()` sends SIGTERM, `kill()` SIGKILL. */
export class CliServer {
  output = ''
  readonly exited: Promise<number | null>
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly cwd: string,
    private readonly ownsCwd: boolean,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()))
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)))
  }

  static async start(
    options: { cwd?: string; args?: string[]; env?: Record<string, string>; port?: number } = {},
  ): Promise<CliServer> {
    if (!existsSync(join(CLI, '../../dist/bin.js')))
      throw new Error('packages/cli/dist is missing: run `npm run build` first')
    const port = options.port ?? (await freePort())
    const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'sb-cli-'))
    const env: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_') && k !== 'NODE_ENV') env[k] = v
    const child = spawn(
      process.execPath,
      [CLI, 'start', '--port', String(port), '--host', '127.0.0.1', ...(options.args ?? [])],
      {
        cwd,
        env: { ...env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const server = new CliServer(child, `http://127.0.0.1:${port}`, cwd, options.cwd === undefined)
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`switchboard exited (${child.exitCode}): ${server.output}`)
          return (await fetch(`${server.url}/readyz`).catch(() => undefined))?.status === 200
        },
        'the CLI server to be ready',
        20_000,
        50,
      )
    } catch (err) {
      await server.kill()
      throw err
    }
    return server
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM')
    return this.exited
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    await this.exited
    if (this.ownsCwd) rmSync(this.cwd, { recursive: true, force: true })
  }
}
