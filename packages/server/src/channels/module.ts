import type { ConceptModule } from '../core/concept-module.js'
import { wireEntries } from '../core/concept-module.js'
import type { ModuleContext } from '../core/module-context.js'
import { ChannelOptionsResolver } from './channel-options.js'
import { ChannelService } from './channel-service.js'
import { channelHandlers } from './handlers.js'
import { CHANNELS_API_PREFIX, historyApi, publishApi, PUBLISH_API_PATH } from './http-api.js'
import { channelSchemas } from './wire-schemas.js'

export interface ChannelsModule extends ConceptModule<'sub' | 'unsub' | 'pub' | 'hist'> {
  readonly service: ChannelService
}

/** Channels: publish/subscribe with history and recovery; user channels are the engine's default streams. */
export function channelsModule(ctx: ModuleContext): ChannelsModule {
  const { config, policy, dataSchemas: schemas, counters } = ctx
  const service = new ChannelService(
    ctx.engine.broker,
    new ChannelOptionsResolver(config.channels),
    ctx.budget,
    config.limits,
    ctx.log,
    policy,
    ctx.occupancy,
  )
  return {
    name: 'channels',
    service,
    messages: wireEntries(channelSchemas, channelHandlers(service, policy, config.limits, schemas)),
    stream: {
      receive(publication) {
        counters.publications++
        service.onPublication(publication)
      },
    },
    routes: (api) => [
      { path: PUBLISH_API_PATH, handler: publishApi(api, service, { policy, limits: config.limits, schemas }) },
      { prefix: CHANNELS_API_PREFIX, handler: historyApi(api, service, policy) },
    ],
    userChanged: (session) => service.recheck(session),
    sessionClosed: (session) => service.removeSession(session),
  }
}
