import { SwitchboardError } from '../errors.js'
import type { ServerRecords } from '../records/server-records.js'
import type { RpcContext } from '../rpc/in-process.js'

/**
 * The demo's poll: the voting example (examples/voting) inside the demo page. The record holds
 * `{ votes: { <option>: n } }` and is created by the first vote (an update creates what is
 * missing); the page knows the question and the options.
 */
export const DEMO_POLL = { record: 'demo/poll', options: ['pizza', 'sushi', 'salad'] } as const

export const DEMO_VOTE_RPC = 'demo/vote'

/**
 * One vote per voter: the ballot `demo/ballots/<voter>` is created with ifVersion 0 (only one
 * of two concurrent votes can create it), then the tally is incremented atomically. The voter
 * is the user, or the connection for anonymous clients (a reconnect counts as a new voter).
 */
export async function vote(records: ServerRecords, args: unknown, ctx: RpcContext): Promise<{ option: string }> {
  const option = (args as { option?: unknown } | null)?.option
  if (typeof option !== 'string' || !(DEMO_POLL.options as readonly string[]).includes(option))
    throw new SwitchboardError('INVALID_DATA', `option must be one of ${DEMO_POLL.options.join(', ')}`)
  const voter = ctx.user ? `user:${ctx.user.id}` : `client:${ctx.clientId ?? 'server'}`
  try {
    await records.set(
      `demo/ballots/${Buffer.from(voter).toString('base64url')}`,
      { option, at: new Date().toISOString() },
      { ifVersion: 0 },
    )
  } catch (err) {
    if ((err as SwitchboardError).code === 'VERSION_CONFLICT')
      throw new SwitchboardError('VERSION_CONFLICT', 'you have already voted')
    throw err
  }
  await records.update(DEMO_POLL.record, { increment: { [`votes.${option}`]: 1 } })
  return { option }
}
