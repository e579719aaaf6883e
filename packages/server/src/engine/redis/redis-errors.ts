import { ErrorReply } from 'redis'
import { SwitchboardError } from '../../errors.js'

/** Replies that mean "not now" (a shard loading, failing over or resharding), not a bug. */
const TRANSIENT_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY)\b/

/**
 * What a failed Redis call means to a caller: the engine is unreachable (retryable
 * UNAVAILABLE: the publish or write was not acknowledged, so the client may send it again), or
 * an error reply that is a bug on our side (kept as is: INTERNAL to clients, details in the log).
 */
export function engineError(err: unknown): Error {
  if (err instanceof ErrorReply && !TRANSIENT_REPLY.test(err.message)) return err
  const error = new SwitchboardError('UNAVAILABLE', 'the cluster engine (Redis) is unreachable; try again')
  error.cause = err
  return error
}
