/**
 * What users install: every published package, built and packed with `npm pack`, installed into
 * a throwaway project outside the repository (so nothing resolves to the workspaces' sources or
 * to the repository's node_modules), then loaded as ESM and CJS, type-checked with tsc and run
 * through its bin. `npm test` builds first; these tests never rebuild.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installPackedProject, PUBLISHED, REPO } from '../support/packed-project.js'

const run = promisify(execFile)
const TIMEOUT = 240_000

let dir: string
let app: string

/** Runs node in the throwaway project; bounded, output as text. */
async function node(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, args, { cwd: app, timeout: 60_000 })
    return stdout
  } catch (err) {
    // What the script printed, and how it ended, is the explanation: put it in the failure.
    const e = err as { stderr?: string; code?: unknown }
    throw new Error(`node ${args[0]} exited with ${String(e.code)}: ${e.stderr || String(err)}`)
  }
}

beforeAll(async () => {
  for (const pkg of PUBLISHED) {
    if (!existsSync(join(REPO, 'packages', pkg, 'dist'))) {
      throw new Error(`packages/${pkg}/dist is missing: run \`npm run build\` before these tests`)
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'sb-packed-'))
  app = await installPackedProject(dir, ['@types/node'])
}, TIMEOUT)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the packed packages, installed from their tarballs', () => {
  it(
    'load as ESM, each with its public API',
    async () => {
      const script = `
        const names = ${JSON.stringify(PUBLISHED.filter((p) => p !== 'cli').map((p) => `@switchboard/${p}`))}
        const out = {}
        for (const name of names) out[name] = Object.keys(await import(name)).sort()
        console.log(JSON.stringify(out))`
      const exports = JSON.parse(await node(['--input-type=module', '-e', script])) as Record<string, string[]>
      expect(exports['@switchboard/protocol']).toEqual(
        expect.arrayContaining(['errorCodes', 'closeCodes', 'jsonCodec']),
      )
      expect(exports['@switchboard/storage']).toEqual(expect.arrayContaining(['MemoryRecordStore', 'StorageError']))
      expect(exports['@switchboard/storage-sqlite']).toEqual(['SqliteRecordStore'])
      expect(exports['@switchboard/storage-postgres']).toEqual(['PostgresRecordStore'])
      expect(exports['@switchboard/server']).toEqual(
        expect.arrayContaining(['createServer', 'loadConfig', 'ConfigError', 'MemoryBroker']),
      )
      expect(exports['@switchboard/client']).toEqual(expect.arrayContaining(['Switchboard', 'SwitchboardError']))
      expect(exports['@switchboard/react']).toEqual(
        expect.arrayContaining(['SwitchboardProvider', 'useRecord', 'useChannel', 'usePresence', 'useRpc']),
      )
    },
    TIMEOUT,
  )

  it(
    'serve the demo and admin pages from the packed server package',
    async () => {
      writeFileSync(
        join(app, 'pages.mjs'),
        `import { createServer } from '@switchboard/server'
const server = createServer({ server: { host: '127.0.0.1', port: 0 }, storage: { type: 'memory' }, log: { level: 'silent' } })
const { url } = await server.listen()
const out = {}
for (const path of ['/', '/admin']) {
  const page = await fetch(url + path)
  const html = await page.text()
  const script = html.match(new RegExp('src="(/assets/[^"]+)"'))[1]
  out[path] = [page.status, (await fetch(url + script)).status]
}
console.log(JSON.stringify(out))
await server.close()
process.exit(0)
`,
      )
      expect(JSON.parse(await node(['pages.mjs']))).toEqual({ '/': [200, 200], '/admin': [200, 200] })
    },
    TIMEOUT,
  )

  it(
    'serve and connect: the packed server with the packed client, as ESM and as CJS',
    async () => {
      writeFileSync(
        join(app, 'roundtrip.mjs'),
        `import { createRequire } from 'node:module'
import { createServer } from '@switchboard/server'
import * as esm from '@switchboard/client'
const cjs = createRequire(import.meta.url)('@switchboard/client')

async function main() {
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    storage: { type: 'memory' },
    channels: { 'chat/**': { history: { size: 10 } } },
    log: { level: 'silent' },
  })
  const { url } = await server.listen()
  const a = new esm.Switchboard(url)
  const b = new cjs.Switchboard(url)
  await Promise.all([a.connect(), b.connect()])
  await a.publish('chat/lobby', { text: 'from esm' })
  const { publications } = await b.history('chat/lobby')
  console.log(JSON.stringify({ cjsIsSeparate: esm.Switchboard !== cjs.Switchboard, data: publications.map((p) => p.data) }))
  await Promise.all([a.close(), b.close()])
  await server.close()
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
`,
      )
      expect(JSON.parse(await node(['roundtrip.mjs']))).toEqual({
        cjsIsSeparate: true,
        data: [{ text: 'from esm' }],
      })
    },
    TIMEOUT,
  )

  it(
    'resolve the client by condition: Node gets the ws-injecting entry, browsers the plain one',
    async () => {
      const where = (conditions: string[], how: 'import' | 'require') =>
        node([
          ...conditions.map((c) => `--conditions=${c}`),
          '--input-type=module',
          '-e',
          how === 'import'
            ? `const m = await import('@switchboard/client'); console.log(typeof m.Switchboard, import.meta.resolve('@switchboard/client'))`
            : `import { createRequire } from 'node:module'; const r = createRequire(process.cwd() + '/x.js'); console.log(typeof r('@switchboard/client').Switchboard, r.resolve('@switchboard/client'))`,
        ])
      expect(await where([], 'import')).toMatch(/^function .*\/@switchboard\/client\/dist\/node\.js\n$/)
      expect(await where([], 'require')).toMatch(/^function .*\/@switchboard\/client\/dist\/cjs\/node\.cjs\n$/)
      expect(await where(['browser'], 'import')).toMatch(/^function .*\/@switchboard\/client\/dist\/index\.js\n$/)
      expect(await where(['browser'], 'require')).toMatch(
        /^function .*\/@switchboard\/client\/dist\/cjs\/index\.cjs\n$/,
      )
    },
    TIMEOUT,
  )

  it(
    'ship the browser bundle at the documented path, defining the global Switchboard',
    async () => {
      const script = `
        const { readFileSync } = require('node:fs')
        const vm = require('node:vm')
        const file = require.resolve('@switchboard/client/dist/browser/switchboard.min.js')
        const context = vm.createContext({})
        vm.runInContext(readFileSync(file, 'utf8'), context)
        console.log(typeof context.Switchboard.Switchboard)`
      expect(await node(['-e', script])).toBe('function\n')
    },
    TIMEOUT,
  )

  it(
    'run SQLite storage on a file, whose writer and checkpointer threads load from the package',
    async () => {
      // Both modes start a worker from a file shipped beside dist/ (threads/): a tarball without
      // it would only fail here, at the first commit. Install scripts were skipped, so the native
      // addon is the one the repository's own install built (same better-sqlite3, same Node).
      const addon = join('node_modules', 'better-sqlite3', 'build')
      cpSync(join(REPO, addon), join(app, addon), { recursive: true })
      const script = `
        import { mkdtempSync } from 'node:fs'
        import { join } from 'node:path'
        import { tmpdir } from 'node:os'
        import { SqliteRecordStore } from '@switchboard/storage-sqlite'
        const dir = mkdtempSync(join(tmpdir(), 'sb-packed-sqlite-'))
        const out = []
        for (const synchronous of ['normal', 'full']) {
          const store = new SqliteRecordStore({ path: join(dir, synchronous + '.db'), synchronous })
          out.push((await store.write('r', JSON.stringify({ n: 1 }), 0)).ok)
          out.push((await store.get('r'))?.version)
          await store.close()
        }
        console.log(JSON.stringify(out))`
      expect(JSON.parse(await node(['--input-type=module', '-e', script]))).toEqual([true, 1, true, 1])
    },
    TIMEOUT,
  )

  it(
    'type-check a consumer against their .d.ts, from ESM and from CJS',
    async () => {
      writeFileSync(
        join(app, 'consumer.mts'),
        `import { createServer, loadConfig, type SwitchboardConfigInput, type SwitchboardServer } from '@switchboard/server'
import { Switchboard, SwitchboardError, type SubscribeOptions } from '@switchboard/client'
import { errorCodes, type ErrorCode } from '@switchboard/protocol'
import { MemoryRecordStore, type RecordStore } from '@switchboard/storage'
import { describeRecordStoreContract, type ContractFactory } from '@switchboard/storage/contract'
import { SqliteRecordStore } from '@switchboard/storage-sqlite'
import { PostgresRecordStore } from '@switchboard/storage-postgres'

const config: SwitchboardConfigInput = loadConfig({ env: {} })
const server: SwitchboardServer = createServer(config)
const client: Switchboard = new Switchboard('http://127.0.0.1:7070')
const options: SubscribeOptions = { recover: true }
const code: ErrorCode = 'NOT_FOUND'
const store: RecordStore = new MemoryRecordStore()
const factory: ContractFactory = async () => ({ store })
const offset: Promise<{ offset: number }> = client.publish('chat/lobby', { text: 'hi' })
export const used = [server, options, code, factory, offset, errorCodes, SwitchboardError]
export const stores = [describeRecordStoreContract, SqliteRecordStore, PostgresRecordStore]
`,
      )
      writeFileSync(
        join(app, 'consumer.cts'),
        `import client = require('@switchboard/client')
const sb: InstanceType<typeof client.Switchboard> = new client.Switchboard('http://127.0.0.1:7070')
const error: InstanceType<typeof client.SwitchboardError> | null = null
export = { sb, error }
`,
      )
      // skipLibCheck off: the packages' own .d.ts must type-check in a consumer's project too.
      const tsconfig = {
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig))
      const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')
      const result = await run(process.execPath, [tsc, '-p', '.'], { cwd: app, timeout: 180_000 }).then(
        ({ stdout }) => ({ ok: true, stdout }),
        (e: { stdout?: string }) => ({ ok: false, stdout: e.stdout ?? String(e) }),
      )
      expect(result).toEqual({ ok: true, stdout: '' })
    },
    TIMEOUT,
  )

  it(
    'install the switchboard bin, which runs from the packed CLI',
    async () => {
      const bin = join(app, 'node_modules', '.bin', 'switchboard')
      const { stdout: version } = await run(bin, ['--version'], { cwd: app, timeout: 60_000 })
      expect(version).toBe('0.1.0\n')
      writeFileSync(join(app, 'switchboard.yaml'), 'server: { port: 8080 }\nstorage: { type: memory }\n')
      const { stdout: check } = await run(bin, ['check'], { cwd: app, timeout: 60_000 })
      expect(check).toBe('ok\n')
    },
    TIMEOUT,
  )
})
