import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

// The built bin, as users run it; `npm run build` must have run first (tests never rebuild).
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

interface Run {
  child: ChildProcess
  stdout: string
  stderr: string
  exit: Promise<number | null>
}

const running = new Set<Run>()
let cwd: string

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before these tests`)
})

afterEach(async () => {
  // Kill whatever a test left running, even when it failed half-way.
  const left = [...running]
  running.clear()
  for (const run of left) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL')
  await Promise.all(left.map((r) => r.exit))
  if (cwd) rmSync(cwd, { recursive: true, force: true })
})

function freshDir(): string {
  cwd = mkdtempSync(join(tmpdir(), 'sb-cli-'))
  return cwd
}

/** The parent's env without anything that would change the config under test. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.toUpperCase().startsWith('SWITCHBOARD_') && k !== 'NODE_ENV') env[k] = v
  }
  return { ...env, ...extra }
}

function cli(args: string[], options: { env?: Record<string, string> } = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(options.env), stdio: 'pipe' })
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.on('close', (code) => resolve(code))),
  }
  child.stdout?.on('data', (d: Buffer) => (run.stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (run.stderr += d.toString()))
  running.add(run)
  return run
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Runs a command to completion (bounded). */
async function complete(args: string[], env?: Record<string, string>) {
  const run = cli(args, { env })
  const code = await within(run.exit, 15_000, `switchboard ${args.join(' ')}`)
  return { code, stdout: run.stdout, stderr: run.stderr }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Polls until GET returns 200; bounded, and fails early if the process exits. */
async function waitHealthy(run: Run, url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (run.child.exitCode !== null) throw new Error(`server exited (${run.child.exitCode}): ${run.stderr}`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy within ${timeoutMs} ms; stderr: ${run.stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('switchboard check', () => {
  it('prints ok for a valid file (given or found in the working directory)', async () => {
    freshDir()
    writeFileSync(join(cwd, 'switchboard.yaml'), 'server:\n  port: 8080\nlimits:\n  maxMessageBytes: 2MiB\n')
    const explicit = await complete(['check', '--config', 'switchboard.yaml'])
    expect(explicit).toMatchObject({ code: 0, stdout: 'ok\n' })
    const found = await complete(['check'])
    expect(found).toMatchObject({ code: 0, stdout: 'ok\n' })
  })

  it('prints every error as file:line:col path: message and exits 1', async () => {
    freshDir()
    writeFileSync(
      join(cwd, 'bad.yaml'),
      'server:\n  port: 8080\nlimits:\n  maxMessageBytes: 1 parsec\n  bogus: 1\nauth: { anonymous: maybe }\n',
    )
    const { code, stdout } = await complete(['check', '-c', 'bad.yaml'])
    expect(code).toBe(1)
    const lines = stdout.trim().split('\n')
    expect(lines).toEqual([
      expect.stringMatching(/^bad\.yaml:4:20 limits\.maxMessageBytes: invalid size "1 parsec"/),
      expect.stringMatching(/^bad\.yaml:5:3 limits\.bogus: unknown key/),
      'bad.yaml:6:20 auth.anonymous: expected boolean, got "maybe"',
    ])
  })

  it('validates declared query indexes: collection names and record paths', async () => {
    freshDir()
    writeFileSync(join(cwd, 'good.yaml'), 'collections:\n  todos:\n    indexes: [[done, created], [owner]]\n')
    expect(await complete(['check', '-c', 'good.yaml'])).toMatchObject({ code: 0, stdout: 'ok\n' })
    writeFileSync(
      join(cwd, 'bad.yaml'),
      "collections:\n  'todos/':\n    indexes: [[done]]\n  notes:\n    indexes: [[done, __proto__.x], []]\n",
    )
    const { code, stdout } = await complete(['check', '-c', 'bad.yaml'])
    expect(code).toBe(1)
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^bad\.yaml:2:3 collections\."?todos\/"?: invalid collection name "todos\/"/),
      expect.stringMatching(/^bad\.yaml:5:22 collections\.notes\.indexes\.0\.1: "__proto__\.x" is not a record path/),
      expect.stringMatching(/^bad\.yaml:5:36 collections\.notes\.indexes\.1: .*/),
    ])
  })

  it('compiles the JSON Schemas the config names, and reports each one it cannot use', async () => {
    freshDir()
    writeFileSync(join(cwd, 'todo.json'), '{ "type": "object", "properties": { "title": { "type": "string" } } }')
    writeFileSync(join(cwd, 'broken.json'), '{\n  "type": "object",\n  "required": ["a",]\n}\n')
    writeFileSync(join(cwd, 'wrong.json'), '{ "type": "no-such-type" }')
    writeFileSync(join(cwd, 'good.yaml'), "schemas:\n  'todos/*': ./todo.json\n")
    expect(await complete(['check', '-c', 'good.yaml'])).toMatchObject({ code: 0, stdout: 'ok\n' })

    writeFileSync(
      join(cwd, 'bad.yaml'),
      "schemas:\n  'todos/*': ./todo.json\n  'a/*': ./broken.json\n  'b/*': ./wrong.json\n  'c/*': ./missing.json\n",
    )
    const { code, stdout } = await complete(['check', '-c', 'bad.yaml'])
    expect(code).toBe(1)
    const lines = stdout.trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/broken\.json:3:20 schemas\.a\/\*: JSON Schema is not JSON: Unexpected token ']'$/)
    expect(lines[1]).toMatch(/wrong\.json schemas\.b\/\*: not a valid JSON Schema: /)
    expect(lines[2]).toMatch(/missing\.json schemas\.c\/\*: cannot read JSON Schema/)
  })

  it('reports env overrides by variable name', async () => {
    freshDir()
    const { code, stdout } = await complete(['check'], { SWITCHBOARD_SERVER_PORT: 'x', SWITCHBOARD_WHAT: '1' })
    expect(code).toBe(1)
    expect(stdout).toContain('SWITCHBOARD_SERVER_PORT server.port: expected integer, got "x"')
    expect(stdout).toContain('SWITCHBOARD_WHAT: unknown environment variable')
  })

  it('fails on a missing --config file', async () => {
    freshDir()
    const { code, stdout } = await complete(['check', '--config', 'missing.yaml'])
    expect(code).toBe(1)
    expect(stdout).toContain('missing.yaml: cannot read config file: file not found')
  })
})

describe('switchboard start', () => {
  it('starts with zero config in development mode, serves /healthz and drains on SIGTERM', async () => {
    freshDir()
    const port = await freePort()
    const run = cli(['start', '--port', String(port), '--host', '127.0.0.1'])
    await waitHealthy(run, `http://127.0.0.1:${port}/healthz`)
    expect(run.stderr).toContain('DEVELOPMENT mode')
    expect(run.stderr).toContain('anonymous clients are allowed')
    expect(run.stderr).toContain(`listening on http://127.0.0.1:${port}`)

    run.child.kill('SIGTERM')
    expect(await within(run.exit, 10_000, 'exit after SIGTERM')).toBe(0)
  })

  it('reads ./switchboard.yaml and lets flags override it', async () => {
    freshDir()
    const port = await freePort()
    writeFileSync(join(cwd, 'switchboard.yaml'), `server:\n  host: 127.0.0.1\n  port: 1\nlog: { level: warn }\n`)
    const run = cli(['start', '-p', String(port)])
    await waitHealthy(run, `http://127.0.0.1:${port}/healthz`)
    run.child.kill('SIGINT')
    expect(await within(run.exit, 10_000, 'exit after SIGINT')).toBe(0)
  })

  it('prints config errors without a stack trace and exits 1', async () => {
    freshDir()
    writeFileSync(join(cwd, 'sb.yaml'), 'server:\n  port: nope\n')
    const { code, stderr } = await complete(['start', '--config', 'sb.yaml'])
    expect(code).toBe(1)
    expect(stderr).toContain('sb.yaml:2:9 server.port: expected integer, got "nope"')
    expect(stderr).not.toMatch(/\n\s+at /)
  })

  it('rejects a bad --port before loading anything', async () => {
    freshDir()
    const { code, stderr } = await complete(['start', '--port', 'eighty'])
    expect(code).toBe(1)
    expect(stderr).toContain('expected a port number')
  })
})

describe('switchboard rules test', () => {
  const rules = "channels:\n  'chat/*': { subscribe: 'user != null' }\n"
  const cases =
    '- { user: { id: alice }, kind: channels, action: subscribe, name: chat/lobby, expect: allow }\n' +
    '- { kind: channels, action: subscribe, name: chat/lobby, expect: deny }\n'

  it('tests the permissions file named by --config, ./switchboard.yaml or SWITCHBOARD_PERMISSIONS', async () => {
    freshDir()
    writeFileSync(join(cwd, 'permissions.yaml'), rules)
    writeFileSync(join(cwd, 'cases.yaml'), cases)
    writeFileSync(join(cwd, 'sb.yaml'), 'permissions: ./permissions.yaml\n')
    const passed = { code: 0, stdout: '2 cases: 2 passed, 0 failed\n' }
    expect(await complete(['rules', 'test', '--config', 'sb.yaml', 'cases.yaml'])).toMatchObject(passed)
    expect(
      await complete(['rules', 'test', 'cases.yaml'], { SWITCHBOARD_PERMISSIONS: 'permissions.yaml' }),
    ).toMatchObject(passed)
    writeFileSync(join(cwd, 'switchboard.yaml'), 'permissions: ./permissions.yaml\n')
    expect(await complete(['rules', 'test', 'cases.yaml'])).toMatchObject(passed)
  })

  it('lets a rules file on the command line win over the config, and reports a bad config', async () => {
    freshDir()
    writeFileSync(join(cwd, 'permissions.yaml'), rules)
    writeFileSync(join(cwd, 'open.yaml'), "channels:\n  'chat/*': { subscribe: 'true' }\n")
    writeFileSync(join(cwd, 'cases.yaml'), cases)
    writeFileSync(join(cwd, 'sb.yaml'), 'permissions: ./open.yaml\n')
    expect(await complete(['rules', 'test', '-c', 'sb.yaml', 'permissions.yaml', 'cases.yaml'])).toMatchObject({
      code: 0,
      stdout: '2 cases: 2 passed, 0 failed\n',
    })
    const bad = await complete(['rules', 'test', 'permissions.yaml', 'cases.yaml'], { SWITCHBOARD_SERVER_PORT: 'x' })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('SWITCHBOARD_SERVER_PORT server.port: expected integer, got "x"')
  })

  it('says how to name the rules when neither the command line nor the config does', async () => {
    freshDir()
    writeFileSync(join(cwd, 'cases.yaml'), cases)
    const { code, stderr } = await complete(['rules', 'test', 'cases.yaml'])
    expect(code).toBe(1)
    expect(stderr).toContain('no permissions file: give one')
  })
})

afterAll(() => {
  if (cwd) rmSync(cwd, { recursive: true, force: true })
})
