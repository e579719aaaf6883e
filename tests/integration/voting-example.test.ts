// Drives examples/voting as users would: viewers watch the poll record, voters with real JWTs
// (signed exactly like `switchboard token`) vote by RPC, and the server handler counts each
// user once, atomically.
import { afterEach, describe, expect, it } from 'vitest'
import { SwitchboardError, type Switchboard } from '@switchboard/client'
import { signDevelopmentToken } from '@switchboard/server'
import { startVoting } from '../../examples/voting/app.mjs'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

type Poll = { question: string; options: string[]; votes: Record<string, number> }

async function example() {
  const app = await startVoting({ server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } })
  res.add(app, (a) => a.close())
  const token = (user: string) => signDevelopmentToken(app.server.config, { user })
  return { ...app, token }
}

/** A viewer: the latest tally it saw. */
function view(sb: Switchboard) {
  const seen: { votes: Record<string, number> | undefined } = { votes: undefined }
  sb.record<Poll>('polls/lunch').subscribe((poll) => (seen.votes = poll?.votes))
  return seen
}

async function failure(p: Promise<unknown>): Promise<SwitchboardError> {
  try {
    await p
  } catch (err) {
    return err as SwitchboardError
  }
  throw new Error('expected a rejection')
}

describe('examples/voting', () => {
  it('votes are cast by RPC, counted once per user, and every viewer sees the tally change live', async () => {
    const { url, token } = await example()
    const viewers = await Promise.all([
      res.connected(url),
      res.connected(url),
      res.connected(url, { token: await token('dave') }),
    ])
    const seen = viewers.map(view)
    await waitFor(() => seen.every((s) => s.votes?.pizza === 0), 'every viewer to see the empty poll')

    const alice = await res.connected(url, { token: await token('alice') })
    const bob = await res.connected(url, { token: await token('bob') })
    expect(await alice.rpc.call('polls/vote', { poll: 'lunch', option: 'pizza' })).toMatchObject({ option: 'pizza' })
    await waitFor(() => seen.every((s) => s.votes?.pizza === 1), 'the first vote everywhere')
    await bob.rpc.call('polls/vote', { poll: 'lunch', option: 'sushi' })
    await waitFor(() => seen.every((s) => s.votes?.sushi === 1), 'the second vote everywhere')

    // A second vote of the same user is refused, and the tally does not move.
    const again = await failure(alice.rpc.call('polls/vote', { poll: 'lunch', option: 'salad' }))
    expect(again.code).toBe('RPC_ERROR')
    expect(again.message).toBe('you have already voted in lunch')
    // Same user, another tab: still one vote.
    const aliceTab2 = await res.connected(url, { token: await token('alice') })
    expect((await failure(aliceTab2.rpc.call('polls/vote', { poll: 'lunch', option: 'salad' }))).code).toBe('RPC_ERROR')
    expect(seen.map((s) => s.votes)).toEqual(Array(3).fill({ pizza: 1, sushi: 1, salad: 0 }))
  })

  it('concurrent votes: each user counts once, none are lost', async () => {
    const { url, token, server } = await example()
    const voters = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const t = await token(`user${i % 6}`) // two connections per user, voting at the same time
        return res.connected(url, { token: t })
      }),
    )
    const results = await Promise.allSettled(
      voters.map((v, i) => v.rpc.call('polls/vote', { poll: 'lunch', option: i % 2 ? 'pizza' : 'sushi' })),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6)
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(refused.every((r) => (r.reason as SwitchboardError).code === 'RPC_ERROR')).toBe(true)
    const poll = await server.records.get('polls/lunch')
    const votes = (poll!.data as Poll).votes
    expect(votes.pizza! + votes.sushi! + votes.salad!).toBe(6)
  })

  it('permissions: anonymous viewers cannot vote, clients cannot touch the tally or the ballots', async () => {
    const { url, token } = await example()
    const anon = await res.connected(url)
    expect((await failure(anon.rpc.call('polls/vote', { poll: 'lunch', option: 'pizza' }))).code).toBe(
      'PERMISSION_DENIED',
    )
    const eve = await res.connected(url, { token: await token('eve') })
    const rec = eve.record('polls/lunch')
    await rec.ready
    expect((await failure(rec.update({ increment: { 'votes.pizza': 100 } }))).code).toBe('PERMISSION_DENIED')
    expect(
      (await failure(eve.records.get(`ballots/lunch/${Buffer.from('user:eve').toString('base64url')}`))).code,
    ).toBe('PERMISSION_DENIED')
    expect((await failure(eve.rpc.call('polls/vote', { poll: 'lunch', option: 'steak' }))).code).toBe('INVALID_DATA')
    expect((await failure(eve.rpc.call('polls/vote', { poll: 'dinner', option: 'pizza' }))).code).toBe('NOT_FOUND')
  })

  it('serves the page; viewers show up in the poll presence room', async () => {
    const { url, server } = await example()
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain("rpc.call('polls/vote'")
    const viewer = await res.connected(url)
    await viewer.presence('polls/lunch').join()
    expect(await server.presence.count('polls/lunch')).toBe(1)
  })
})
