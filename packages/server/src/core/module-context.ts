import type { RecordStore } from '@switchboard/storage'
import type { Clock } from '../clock.js'
import type { SwitchboardConfig } from '../config/types.js'
import type { SchemaRegistry } from '../data-schemas/schema-registry.js'
import type { Engine } from '../engine/engine.js'
import type { SubscriptionBudget } from '../limits/subscription-budget.js'
import type { Logger } from '../log.js'
import type { ServerCounters } from '../metrics/counters.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import type { OccupancyObserver } from './occupancy-observer.js'

/**
 * What the composition root hands each module factory. Factories pick what their services
 * need; services take only the interfaces they use.
 */
export interface ModuleContext {
  readonly config: SwitchboardConfig
  readonly log: Logger
  readonly policy: AccessPolicy
  readonly engine: Engine
  /** JSON Schemas from config, enforced on record writes and publishes. */
  readonly dataSchemas: SchemaRegistry
  /** limits.maxSubscriptionsPerConnection across concepts. */
  readonly budget: SubscriptionBudget
  readonly counters: ServerCounters
  /** Record storage, opening (rejects if it cannot open; reported through `server.ready`). */
  readonly store: Promise<RecordStore>
  /** Where channels and records report first/last local subscribers (listening, hooks). */
  readonly occupancy: OccupancyObserver
  /** The server's time (`ServerOptions.clock`): timeouts, deadlines, retries and grace periods run on it. */
  readonly clock: Clock
}
