import { Type, type Static, type TSchema } from '@sinclair/typebox'
import type { SwitchboardConfigInput } from './types.js'
import { DURATION_PATTERN, SIZE_PATTERN } from './units.js'

/**
 * The config schema (SPEC §3). Every object is closed (`additionalProperties: false`) so a
 * misspelt key is an error instead of a silently ignored setting.
 */

/** Marks size/duration unions so errors can say *why* a string is not a size. */
export const UNIT_KEY = 'x-switchboard-unit'
/** Marks records whose keys are channel/name patterns (checked with `isValidPattern`). */
export const PATTERN_KEYS = 'x-switchboard-pattern-keys'

const closed = { additionalProperties: false } as const
/** Paths in one declared query index. */
export const MAX_INDEX_PATHS = 8
const Size = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], { [UNIT_KEY]: 'size' })
const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })], {
  [UNIT_KEY]: 'duration',
})
const Count = Type.Integer({ minimum: 0 })
const Millis = Type.Integer({ minimum: 1 })
const NonEmpty = Type.String({ minLength: 1 })
const OneOrMany = Type.Union([NonEmpty, Type.Array(NonEmpty)])

const Jwt = Type.Object(
  {
    secret: Type.Optional(NonEmpty),
    publicKey: Type.Optional(NonEmpty),
    jwksFile: Type.Optional(NonEmpty),
    jwksUrl: Type.Optional(NonEmpty),
    jwksCacheTtl: Type.Optional(Duration),
    jwksCooldown: Type.Optional(Duration),
    issuer: Type.Optional(OneOrMany),
    audience: Type.Optional(OneOrMany),
    algorithms: Type.Optional(Type.Array(NonEmpty)),
    clockTolerance: Type.Optional(Duration),
  },
  closed,
)

export const ConfigSchema = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(NonEmpty),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          cors: Type.Optional(Type.Array(NonEmpty)),
          heartbeat: Type.Optional(
            Type.Object({ intervalMs: Type.Optional(Millis), timeoutMs: Type.Optional(Millis) }, closed),
          ),
          handshakeTimeoutMs: Type.Optional(Millis),
          drainTimeoutMs: Type.Optional(Count),
          drain: Type.Optional(Type.Object({ windowMs: Type.Optional(Count) }, closed)),
          metrics: Type.Optional(Type.Boolean()),
          trustProxy: Type.Optional(Type.Array(NonEmpty)),
        },
        closed,
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          anonymous: Type.Optional(Type.Boolean()),
          jwt: Type.Optional(Jwt),
          webhook: Type.Optional(
            Type.Object(
              {
                url: NonEmpty,
                timeoutMs: Type.Optional(Millis),
                cacheTtl: Type.Optional(Duration),
                sessionTtl: Type.Optional(Duration),
              },
              closed,
            ),
          ),
          apiKeys: Type.Optional(Type.Array(NonEmpty)),
        },
        closed,
      ),
    ),
    permissions: Type.Optional(NonEmpty),
    storage: Type.Optional(
      Type.Union([
        Type.Object({ type: Type.Literal('memory') }, closed),
        Type.Object(
          {
            type: Type.Literal('sqlite'),
            path: Type.Optional(NonEmpty),
            synchronous: Type.Optional(Type.Union([Type.Literal('normal'), Type.Literal('full')])),
          },
          closed,
        ),
        Type.Object({ type: Type.Literal('postgres'), url: NonEmpty }, closed),
      ]),
    ),
    engine: Type.Optional(
      Type.Union([
        Type.Object({ type: Type.Literal('memory') }, closed),
        Type.Object(
          {
            type: Type.Literal('redis'),
            url: Type.Optional(NonEmpty),
            cluster: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
            prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:@/-]{0,64}$' })),
            nodeId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:@-]{1,128}$' })),
            nodeTimeout: Type.Optional(Duration),
          },
          closed,
        ),
      ]),
    ),
    channels: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          { history: Type.Optional(Type.Object({ size: Type.Optional(Count), ttl: Type.Optional(Duration) }, closed)) },
          closed,
        ),
        { [PATTERN_KEYS]: 'channel pattern' },
      ),
    ),
    schemas: Type.Optional(Type.Record(Type.String(), NonEmpty, { [PATTERN_KEYS]: 'schema pattern' })),
    limits: Type.Optional(
      Type.Object(
        {
          maxMessageBytes: Type.Optional(Size),
          maxSubscriptionsPerConnection: Type.Optional(Count),
          messagesPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          messagesBurst: Type.Optional(Type.Integer({ minimum: 1 })),
          maxBufferedBytes: Type.Optional(Size),
          maxJsonDepth: Type.Optional(Type.Integer({ minimum: 1 })),
          maxUpdateOps: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          maxConnectionsPerIp: Type.Optional(Count),
          maxQueryResults: Type.Optional(Type.Integer({ minimum: 1 })),
          maxQueriesPerConnection: Type.Optional(Count),
          maxQueryClauses: Type.Optional(Type.Integer({ minimum: 1 })),
          connectsPerSecond: Type.Optional(Count),
        },
        closed,
      ),
    ),
    collections: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          { indexes: Type.Optional(Type.Array(Type.Array(NonEmpty, { minItems: 1, maxItems: MAX_INDEX_PATHS }))) },
          closed,
        ),
      ),
    ),
    rpc: Type.Optional(
      Type.Object({ defaultTimeoutMs: Type.Optional(Millis), maxTimeoutMs: Type.Optional(Millis) }, closed),
    ),
    presence: Type.Optional(
      Type.Object({ batchMs: Type.Optional(Count), countsOnly: Type.Optional(Type.Array(NonEmpty)) }, closed),
    ),
    hooks: Type.Optional(
      Type.Object(
        {
          url: Type.Optional(NonEmpty),
          secret: Type.Optional(NonEmpty),
          events: Type.Optional(
            Type.Array(
              Type.Union([
                Type.Literal('occupied'),
                Type.Literal('vacated'),
                Type.Literal('connect'),
                Type.Literal('disconnect'),
              ]),
            ),
          ),
          graceMs: Type.Optional(Count),
          timeoutMs: Type.Optional(Millis),
          batchMs: Type.Optional(Count),
          maxBatch: Type.Optional(Type.Integer({ minimum: 1 })),
          maxQueue: Type.Optional(Type.Integer({ minimum: 1 })),
          maxAttempts: Type.Optional(Type.Integer({ minimum: 1 })),
          retryDelayMs: Type.Optional(Millis),
          maxRetryDelayMs: Type.Optional(Millis),
        },
        closed,
      ),
    ),
    log: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(
            Type.Union([
              Type.Literal('fatal'),
              Type.Literal('error'),
              Type.Literal('warn'),
              Type.Literal('info'),
              Type.Literal('debug'),
              Type.Literal('trace'),
              Type.Literal('silent'),
            ]),
          ),
        },
        closed,
      ),
    ),
    admin: Type.Optional(Type.Object({ enabled: Type.Optional(Type.Boolean()) }, closed)),
    demo: Type.Optional(Type.Object({ enabled: Type.Optional(Type.Boolean()) }, closed)),
    mode: Type.Optional(Type.Union([Type.Literal('development'), Type.Literal('production')])),
  },
  closed,
)

// The hand-written input type (types.ts) and the schema must describe the same shape.
type Equivalent<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const _inSync: Equivalent<Static<typeof ConfigSchema>, SwitchboardConfigInput> = true
void _inSync

export type PathSegment = string | number

/** A plain view of the JSON-Schema keywords we walk (TypeBox schemas are JSON Schema). */
export interface SchemaNode {
  type?: string
  const?: unknown
  anyOf?: SchemaNode[]
  properties?: Record<string, SchemaNode>
  patternProperties?: Record<string, SchemaNode>
  items?: SchemaNode
  required?: string[]
  [UNIT_KEY]?: 'size' | 'duration'
  [PATTERN_KEYS]?: string
}

export const rootSchema = ConfigSchema as TSchema as SchemaNode

/** Properties of an object node; for a union of objects, the union of their properties. */
export function propertiesOf(node: SchemaNode): Map<string, SchemaNode[]> {
  const out = new Map<string, SchemaNode[]>()
  const variants = node.anyOf ?? [node]
  for (const v of variants) {
    for (const [key, child] of Object.entries(v.properties ?? {})) {
      const list = out.get(key) ?? []
      list.push(child)
      out.set(key, list)
    }
  }
  return out
}

/** The schema of the value at `path`, or undefined when the path is not part of the schema. */
export function schemaAt(path: readonly PathSegment[], node: SchemaNode = rootSchema): SchemaNode | undefined {
  let current: SchemaNode | undefined = node
  for (const seg of path) {
    if (!current) return undefined
    if (current.type === 'array') {
      current = typeof seg === 'number' || /^\d+$/.test(seg) ? current.items : undefined
    } else if (current.patternProperties) {
      current = Object.values(current.patternProperties)[0]
    } else if (current.anyOf) {
      // Unions of objects (storage, engine) or of a scalar and an array (issuer).
      const props = propertiesOf(current).get(String(seg))
      current = props?.[0] ?? current.anyOf.find((v) => v.type === 'array')?.items
    } else {
      current = current.properties?.[String(seg)]
    }
  }
  return current
}

/** True when the node is a union whose variants are all constants (an enum). */
export function isEnum(node: SchemaNode): node is SchemaNode & { anyOf: SchemaNode[] } {
  return !!node.anyOf && node.anyOf.every((v) => v.const !== undefined)
}

/** True when the node is a union of objects told apart by a literal `type` property. */
export function isTaggedUnion(node: SchemaNode): node is SchemaNode & { anyOf: SchemaNode[] } {
  return !!node.anyOf && node.anyOf.every((v) => v.type === 'object' && v.properties?.type?.const !== undefined)
}
