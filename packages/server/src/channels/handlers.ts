import type { HistoryReply, PublishReply } from '@switchboard/protocol'
import { EncodedFrame } from '../transports/transport.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import type { HandlerMap } from '../wire/dispatch.js'
import { SwitchboardError } from '../errors.js'
import type { ChannelService } from './channel-service.js'
import { checkPublish } from './publish-check.js'
import { publishKey } from './publish-ids.js'

/** Wire handlers for channel messages: validation and permission checks, then the service. */
export function channelHandlers(
  channels: ChannelService,
  policy: AccessPolicy,
  limits: { maxJsonDepth: number },
  /** JSON Schemas from config, enforced on published data. */
  schemas?: { check(name: string, data: unknown): string | null },
): Pick<HandlerMap, 'sub' | 'unsub' | 'pub' | 'hist'> {
  const guard = { policy, limits, schemas }
  return {
    sub(session, m) {
      if (!policy.allows({ kind: 'channels', action: 'subscribe', name: m.ch, user: session.user })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to subscribe to ${m.ch}`)
      }
      return channels.subscribe(session, m.ch, m.since).then(({ reply, start }) => {
        session.send({ t: 'ok', id: m.id, r: reply })
        start?.()
      })
    },
    unsub(session, m) {
      channels.unsubscribe(session, m.ch)
      session.send({ t: 'ok', id: m.id })
    },
    pub(session, m) {
      checkPublish(guard, session.user, m.ch, m.d)
      // Not returned: publishes are ordered by the broker call, not by holding the inbound queue.
      const user = session.user?.id ?? null
      const key = m.w === undefined ? undefined : publishKey({ user }, m.w)
      channels.publish(m.ch, m.d, { user, client: session.id }, key).then(
        (pos) => session.enqueue(new EncodedFrame(publishAck(m.id, pos.offset, pos.epoch))),
        (err: unknown) => session.sendError(m.id, ...errorParts(err)),
      )
    },
    async hist(session, m) {
      if (!policy.allows({ kind: 'channels', action: 'history', name: m.ch, user: session.user })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to read the history of ${m.ch}`)
      }
      const q: { since?: typeof m.since; limit?: number } = {}
      if (m.since) q.since = m.since
      if (m.limit !== undefined) q.limit = m.limit
      const h = await channels.history(m.ch, q)
      const reply: HistoryReply = {
        pubs: h.publications.map((p) =>
          p.publisher ? { o: p.offset, d: p.data, p: p.publisher } : { o: p.offset, d: p.data },
        ),
        o: h.position.offset,
        e: h.position.epoch,
      }
      session.send({ t: 'ok', id: m.id, r: reply })
    },
  }
}

function errorParts(err: unknown): [SwitchboardError['code'], string] {
  if (err instanceof SwitchboardError) return [err.code, err.message]
  return ['INTERNAL', 'internal server error']
}

/**
 * `{"t":"ok","id":…,"r":{"o":…,"e":…}}` written directly: one per publication, the hot path of a
 * busy publisher. The same text as JSON.stringify of the message (id and offset are integers).
 */
export function publishAck(id: number, offset: number, epoch: string): string {
  const r: PublishReply = { o: offset, e: epoch }
  return `{"t":"ok","id":${id},"r":{"o":${r.o},"e":${JSON.stringify(r.e)}}}`
}
