/**
 * The zero-config server (the built CLI, as users start it) keeps records across a restart:
 * embedded SQLite under ./switchboard-data/ in the working directory.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'

// The committed shim that loads the built CLI; `npm run build` must have run first.
const BIN = fileURLToPath(new URL('../../packages/cli/bin/switchboard.js', import.meta.url))
const BUILT = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url))

const res = new Resources()
const children = new Set<ChildProcess>()
let cwd: string | undefined

beforeAll(() => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` before these tests`)
})

afterEach(async () => {
  await res.cleanup()
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.clear()
  if (cwd) rmSync(cwd, { recursive: true, force: true })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Starts `switchboard start` in `dir`; resolves once it says it is listening. */
async function start(dir: string, port: number): Promise<{ child: ChildProcess; exit: Promise<number | null> }> {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_') && k !== 'NODE_ENV') env[k] = v
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: dir,
    env: { ...env, SWITCHBOARD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  children.add(child)
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" within 15 s; stderr:\n${stderr}`)), 15_000)
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (stderr.includes('listening on')) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exit.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before listening; stderr:\n${stderr}`))
    })
  })
  return { child, exit }
}

describe('zero-config persistence', () => {
  it('keeps records across a restart (SQLite under ./switchboard-data/)', async () => {
    cwd = mkdtempSync(join(tmpdir(), 'sb-restart-'))
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`

    const first = await start(cwd, port)
    const sb = await res.connected(url, { reconnect: { minDelayMs: 20, maxDelayMs: 100 } })
    const rec = sb.record('todos/1')
    await rec.ready
    await rec.set({ title: 'survive', done: false })
    await rec.update({ increment: { edits: 1 }, push: { tags: 'persisted' } })
    await sb.record('todos/gone').set({ x: 1 })
    await sb.record('todos/gone').delete()
    await sb.close()
    first.child.kill('SIGTERM')
    expect(await first.exit).toBe(0)
    expect(existsSync(join(cwd, 'switchboard-data', 'records.db'))).toBe(true)

    await start(cwd, port)
    const again = await res.connected(url)
    expect(await again.records.get('todos/1')).toEqual({
      data: { title: 'survive', done: false, edits: 1, tags: ['persisted'] },
      version: 2,
    })
    expect(await again.records.get('todos/gone')).toBeNull()
    // A deleted record keeps its version: re-created, it continues from there.
    const gone = again.record('todos/gone')
    await gone.ready
    expect(gone.version).toBe(2)
    expect(await gone.set({ back: true })).toEqual({ version: 3 })
  })
})
