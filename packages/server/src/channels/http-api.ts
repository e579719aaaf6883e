import { isPlainObject, isValidName, type StreamPosition } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'
import { apiRoute, nameAfter, type ApiDeps } from '../http/api-route.js'
import { sendJson, type RouteHandler } from '../http/router.js'
import type { ChannelService } from './channel-service.js'
import { checkPublish, type PublishGuard } from './publish-check.js'
import { isValidPublishId, publishKey } from './publish-ids.js'

export const PUBLISH_API_PATH = '/api/publish'
export const CHANNELS_API_PREFIX = '/api/channels/'
const HISTORY_SUFFIX = '/history'
const MAX_HISTORY_LIMIT = 10_000

/**
 * `POST /api/publish` `{ channel, data, id? }` → `{ offset, epoch }`: the same checks (data
 * guard, schema, `publish` rule) and the same ack as a connection's publish, so `offset` means
 * the publication is in the channel's history. With `id`, a retried request (within the dedupe
 * window) publishes once and gets the first one's answer.
 */
export function publishApi(deps: ApiDeps, channels: ChannelService, guard: PublishGuard): RouteHandler {
  return apiRoute(deps, 'publish', ['POST'], async ({ res, user, body }) => {
    const b = await body()
    const keys = isPlainObject(b) ? Object.keys(b).length : 0
    if (
      !isPlainObject(b) ||
      typeof b.channel !== 'string' ||
      !('data' in b) ||
      (b.id !== undefined && !isValidPublishId(b.id)) ||
      keys !== (b.id === undefined ? 2 : 3)
    ) {
      throw new SwitchboardError(
        'INVALID_MESSAGE',
        'expected a JSON body { "channel": "...", "data": ..., "id"?: "<1-64 characters>" }',
      )
    }
    if (!isValidName(b.channel)) throw invalidChannel(b.channel)
    checkPublish(guard, user, b.channel, b.data)
    const publisher = user?.id ?? null
    const key = b.id === undefined ? undefined : publishKey({ user: publisher }, b.id)
    const pos = await channels.publish(b.channel, b.data, { user: publisher, client: 'http' }, key)
    sendJson(res, 200, { offset: pos.offset, epoch: pos.epoch })
  })
}

/**
 * `GET /api/channels/{channel}/history?since=<offset>&epoch=<epoch>&limit=<n>` → the same
 * answer as `sb.history()`: `{ publications: [{ data, offset, epoch, publisher? }], epoch,
 * offset }`, oldest first; `since` is exclusive and needs the epoch it belongs to.
 */
export function historyApi(deps: ApiDeps, channels: ChannelService, policy: PublishGuard['policy']): RouteHandler {
  return apiRoute(deps, 'history', ['GET'], async ({ res, url, user }) => {
    if (!url.pathname.endsWith(HISTORY_SUFFIX)) {
      throw new SwitchboardError(
        'NOT_FOUND',
        `no route for ${url.pathname} (try ${CHANNELS_API_PREFIX}{channel}/history)`,
      )
    }
    const channel = nameAfter(url.pathname, CHANNELS_API_PREFIX, 'channel', HISTORY_SUFFIX)
    if (!isValidName(channel)) throw invalidChannel(channel)
    if (!policy.allows({ kind: 'channels', action: 'history', name: channel, user })) {
      throw new SwitchboardError('PERMISSION_DENIED', `not allowed to read the history of ${channel}`)
    }
    const query: { since?: StreamPosition; limit?: number } = {}
    const since = url.searchParams.get('since')
    const epoch = url.searchParams.get('epoch')
    if (since !== null || epoch !== null) {
      if (since === null || epoch === null || !/^\d{1,15}$/.test(since) || epoch === '') {
        throw new SwitchboardError('INVALID_MESSAGE', 'since and epoch go together: ?since=<offset>&epoch=<epoch>')
      }
      query.since = { offset: Number(since), epoch }
    }
    const limit = url.searchParams.get('limit')
    if (limit !== null) {
      if (!/^\d{1,6}$/.test(limit) || Number(limit) > MAX_HISTORY_LIMIT) {
        throw new SwitchboardError('INVALID_MESSAGE', `limit must be an integer from 0 to ${MAX_HISTORY_LIMIT}`)
      }
      query.limit = Number(limit)
    }
    const h = await channels.history(channel, query)
    sendJson(res, 200, {
      publications: h.publications.map((p) => {
        const out: Record<string, unknown> = { data: p.data, offset: p.offset, epoch: p.epoch }
        if (p.publisher) out.publisher = p.publisher
        return out
      }),
      epoch: h.position.epoch,
      offset: h.position.offset,
    })
  })
}

const invalidChannel = (name: string) =>
  new SwitchboardError('INVALID_NAME', `invalid channel name: ${JSON.stringify(name).slice(0, 300)}`)
