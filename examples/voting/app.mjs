// The voting example as a module: `startVoting()` runs the server, seeds a poll and registers
// the vote handler. server.mjs runs it from the command line; the test drives it directly.
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createServer, loadConfigFile, SwitchboardError } from '@switchboard/server'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
/** A development secret, used when VOTING_JWT_SECRET is not set. Never use it in production. */
export const DEV_SECRET = 'voting-example-development-secret-0123456789'

export const POLL = {
  name: 'lunch',
  question: 'What do we have for lunch?',
  options: ['pizza', 'sushi', 'salad'],
}

/**
 * Starts the example. `overrides` is merged over examples/voting/switchboard.yaml (the test
 * uses it for port 0 and silent logs). Resolves to `{ server, url, close() }`.
 */
export async function startVoting(overrides = {}) {
  const env = { ...process.env, VOTING_JWT_SECRET: process.env.VOTING_JWT_SECRET ?? DEV_SECRET }
  const file = loadConfigFile(here('./switchboard.yaml'), env)
  const config = { ...file, ...overrides, server: { ...file.server, ...overrides.server } }
  const server = createServer(config)
  await server.ready
  await seedPoll(server, POLL)
  server.rpc.handle('polls/vote', (args, ctx) => vote(server, args, ctx))

  // One HTTP server: the page, the browser client bundle, and Switchboard's own routes.
  const page = readFileSync(here('./index.html'))
  const bundle = browserBundle()
  const http = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/' || path === '/index.html') return send(res, 'text/html; charset=utf-8', page)
    if (path === '/switchboard.min.js') {
      return bundle
        ? send(res, 'text/javascript; charset=utf-8', bundle)
        : send(res, 'text/plain', 'run `npm run build` first', 404)
    }
    if (!server.handleRequest(req, res)) send(res, 'text/plain', 'not found', 404)
  })
  server.attach(http)
  const { host, port } = config.server
  await new Promise((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, host, resolve)
  })
  const address = http.address()
  const url = `http://${address.address}:${address.port}`
  return {
    server,
    url,
    async close() {
      await server.close()
      http.closeAllConnections()
      await new Promise((resolve) => http.close(() => resolve()))
    },
  }
}

/** Creates the poll record unless it exists (ifVersion 0 = "only if absent"). */
async function seedPoll(server, poll) {
  const votes = Object.fromEntries(poll.options.map((o) => [o, 0]))
  try {
    await server.records.set(
      `polls/${poll.name}`,
      { question: poll.question, options: poll.options, votes },
      { ifVersion: 0 },
    )
  } catch (err) {
    if (err.code !== 'VERSION_CONFLICT') throw err
  }
}

/**
 * The vote handler: one ballot per voter, then one atomic increment.
 * - The voter is the authenticated user, or the connection when there is none (development
 *   setups without auth: a reconnect then counts as a new voter).
 * - `ballots/<poll>/<voter>` is created with ifVersion 0, which only succeeds if it does not
 *   exist yet: two votes of one user (even from two tabs at once) cannot both get through.
 * - The tally is then incremented with an atomic update, so concurrent votes never lose counts;
 *   every viewer subscribed to the poll record sees the new tally.
 */
async function vote(server, args, ctx) {
  const { poll, option } = args ?? {}
  if (typeof poll !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(poll) || typeof option !== 'string') {
    throw new SwitchboardError('INVALID_DATA', 'expected { poll, option }')
  }
  const current = await server.records.get(`polls/${poll}`)
  if (!current) throw new SwitchboardError('NOT_FOUND', `there is no poll ${poll}`)
  if (!current.data.options.includes(option))
    throw new SwitchboardError('INVALID_DATA', `${option} is not an option of ${poll}`)
  const voter = ctx.user ? `user:${ctx.user.id}` : `client:${ctx.clientId}`
  try {
    await server.records.set(
      `ballots/${poll}/${Buffer.from(voter).toString('base64url')}`,
      { option, at: new Date().toISOString() },
      { ifVersion: 0 },
    )
  } catch (err) {
    if (err.code === 'VERSION_CONFLICT') throw new Error(`you have already voted in ${poll}`)
    throw err
  }
  const { version } = await server.records.update(`polls/${poll}`, { increment: { [`votes.${option}`]: 1 } })
  return { poll, option, version }
}

/** The client's browser build (packages/client/dist/browser), or null before `npm run build`. */
function browserBundle() {
  try {
    const pkg = createRequire(import.meta.url).resolve('@switchboard/client/package.json')
    return readFileSync(pkg.replace(/package\.json$/, 'dist/browser/switchboard.min.js'))
  } catch {
    return null
  }
}

function send(res, type, body, status = 200) {
  res.writeHead(status, { 'content-type': type })
  res.end(body)
}
