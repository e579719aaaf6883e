import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const REPO = fileURLToPath(new URL('../..', import.meta.url))

/** The workspaces published to npm, by folder under packages/. */
export const PUBLISHED = ['protocol', 'storage', 'storage-sqlite', 'storage-postgres', 'server', 'client', 'cli']

interface Packed {
  name: string
  version: string
  filename: string
  integrity: string
}

interface Manifest {
  name: string
  version: string
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

interface LockEntry {
  version?: string
  resolved?: string
  integrity?: string
  link?: boolean
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  bin?: Record<string, string> | string
  [key: string]: unknown
}

/**
 * Packs every published workspace with `npm pack` (from its built dist/, as `npm publish`
 * would) into `dir`, then installs the tarballs into a throwaway project `dir/app` with
 * `npm ci --offline`: the tarballs come from the local files, and their dependencies from
 * npm's cache at the exact versions of the repository's lock file (which `npm ci` in the
 * repository filled), so the test needs no network. Install scripts are skipped: the checks
 * load modules and types, and better-sqlite3 opens its native addon only when a database is.
 */
export async function installPackedProject(dir: string, extraRootDeps: string[] = []): Promise<string> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', dir, ...PUBLISHED.flatMap((p) => ['-w', `packages/${p}`])],
    { cwd: REPO, maxBuffer: 16 * 1024 * 1024 },
  )
  const packed = JSON.parse(stdout) as Packed[]
  const app = join(dir, 'app')
  mkdirSync(app)
  const dependencies = Object.fromEntries(packed.map((p) => [p.name, `file:../${p.filename}`]))
  const repoLock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>
  }
  const devDependencies: Record<string, string> = {}
  for (const name of extraRootDeps) {
    const version = repoLock.packages[`node_modules/${name}`]?.version
    if (!version) throw new Error(`${name} is not in the repository's lock file`)
    devDependencies[name] = version
  }
  const manifest: Manifest = { name: 'packed-consumer', version: '0.0.0', dependencies, devDependencies }
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(lockFor(manifest, packed, repoLock.packages))}\n`)
  try {
    await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: app,
      maxBuffer: 16 * 1024 * 1024,
    })
  } catch (e) {
    const { stderr } = e as { stderr?: string }
    if (stderr?.includes('ENOTCACHED')) {
      throw new Error(`npm's cache lacks a dependency: run \`npm ci\` in the repository first\n${stderr}`)
    }
    throw e
  }
  return app
}

/**
 * A lock file for the throwaway project: the tarballs at the top, and every package they
 * reach (dependencies, optional dependencies, required peers) placed where the repository's
 * lock file has it; what is nested under a workspace folder moves under the installed package.
 */
function lockFor(manifest: Manifest, packed: Packed[], lock: Record<string, LockEntry>): object {
  const tarballs = new Map(packed.map((p) => [p.name, p]))
  // packages/server → node_modules/@switchboard/server, for workspace-nested dependencies.
  const workspaces = new Map<string, string>()
  for (const name of tarballs.keys()) {
    const folder = lock[`node_modules/${name}`]?.resolved
    if (!folder) throw new Error(`${name} is not a workspace in the lock file`)
    workspaces.set(folder, `node_modules/${name}`)
  }
  const place = (path: string) => {
    for (const [folder, installed] of workspaces)
      if (path.startsWith(`${folder}/`)) return installed + path.slice(folder.length)
    return path
  }

  const { name, version, dependencies, devDependencies } = manifest
  const packages: Record<string, LockEntry> = { '': { name, version, dependencies, devDependencies } }
  const queue = Object.keys(devDependencies).map((dep) => locate(lock, '', dep))
  for (const [folder, installed] of workspaces) {
    const entry = lock[folder] as LockEntry
    const p = tarballs.get(entry.name as string) as Packed
    packages[installed] = {
      ...strip(entry),
      version: p.version,
      resolved: `file:../${p.filename}`,
      integrity: p.integrity,
    }
    for (const dep of wanted(entry)) if (!tarballs.has(dep)) queue.push(locate(lock, folder, dep))
  }
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    if (packages[place(path)]) continue
    const entry = lock[path] as LockEntry
    packages[place(path)] = strip(entry)
    for (const dep of wanted(entry)) queue.push(locate(lock, path, dep))
  }
  return { name, version, lockfileVersion: 3, requires: true, packages }
}

/** What a package needs installed: dependencies, optional ones, and peers that are not optional. */
function wanted(entry: LockEntry): string[] {
  const peers = Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional)
  return [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {}), ...peers]
}

/** Node's lookup, on lock-file paths: the nearest `node_modules/<name>` from `from` upwards. */
function locate(lock: Record<string, LockEntry>, from: string, name: string): string {
  let dir = from
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`
    if (lock[candidate]) return candidate
    if (dir === '') throw new Error(`${name} (needed by ${from || 'the root'}) is not in the lock file`)
    const cut = dir.lastIndexOf('/node_modules/')
    dir = cut >= 0 ? dir.slice(0, cut) : dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : ''
  }
}

/** The lock entry without the flags that described its place in the repository's tree. */
function strip(entry: LockEntry): LockEntry {
  const { dev: _dev, devOptional: _devOptional, peer: _peer, devDependencies: _devDeps, ...rest } = entry
  return rest
}
