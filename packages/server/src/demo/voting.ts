import { SwitchboardError } from '../errors.js'
import type { ServerRecords } from '../records/server-records.js'
import type { RpcContext } from '../rpc/in-process.js'

/** The demo's poll: the voting example (examples/voting) inside the demo page. */
export const DEMO_POLL = {
  record: 'demo/poll',
  question: 'What do we have for lunch?',
  options: ['pizza', 'sushi', 'salad'],
} as const

export const DEMO_VOTE_RPC = 'demo/vote'

/** Creates the poll record unless it exists (ifVersion 0: only if absent). */
export async function seedPoll(records: ServerRecords): Promise<void> {
  const votes = Object.fromEntries(DEMO_POLL.options.map((o) => [o, 0]))
  await records
    .set(DEMO_POLL.record, { question: DEMO_POLL.question, options: [...DEMO_POLL.options], votes }, { ifVersion: 0 })
    .catch((err: unknown) => {
      if ((err as SwitchboardError).code !== 'VERSION_CONFLICT') throw err
    })
}

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
