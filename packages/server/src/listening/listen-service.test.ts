import { describe, expect, it } from 'vitest'
import { MemoryOccupancy, OccupancyTable } from '../engine/memory/memory-occupancy.js'
import type { OccupancyKind } from '../engine/occupancy.js'
import { createLogger } from '../log.js'
import { allowAll } from '../permissions/access-policy.js'
import { ListenService } from './listen-service.js'
import type { ListenTarget } from './listener.js'

/** The memory registry, with claim answers held back like a slow network (the claim itself applies at once). */
class SlowClaims extends MemoryOccupancy {
  readonly held: (() => void)[] = []
  override async claim(kind: OccupancyKind, name: string, listenerId: string): Promise<boolean> {
    const won = await super.claim(kind, name, listenerId)
    await new Promise<void>((resolve) => this.held.push(resolve))
    return won
  }
  answerAll(): void {
    for (const answer of this.held.splice(0)) answer()
  }
}

const log = createLogger('silent')
const settle = () => new Promise((r) => setTimeout(r, 0))

function target(seen: [string, boolean][]): ListenTarget {
  return { trusted: true, user: () => null, notify: (name, active) => seen.push([name, active]) }
}

async function node(registry: MemoryOccupancy, id: string) {
  const service = new ListenService(registry, id, allowAll, log)
  await registry.start({ onOccupancy: (e) => service.onEvent(e), onCaused: () => {} })
  return service
}

describe('ListenService with a registry that answers claims late', () => {
  it('a claim answered after the name was vacated is ignored: the listener is never told active', async () => {
    const table = new OccupancyTable()
    const registry = new SlowClaims(table)
    const service = await node(registry, 'n1')
    const seen: [string, boolean][] = []
    service.add('channel', 'prices/*', target(seen))
    const subscribers = table.node() // another node's subscriber occupies and vacates the name
    await subscribers.start({ onOccupancy: () => {}, onCaused: () => {} })
    await subscribers.enter('channel', 'prices/A')
    await settle()
    expect(registry.held).toHaveLength(1) // the claim went out and won, its answer is on the way
    await subscribers.leave('channel', 'prices/A')
    await settle() // the vacated event arrives before the answer
    registry.answerAll()
    await settle()
    expect(seen).toEqual([])
  })

  it('a listener removed while its claim is in flight releases the name, and another listener takes it', async () => {
    const table = new OccupancyTable()
    const registry = new SlowClaims(table)
    const service = await node(registry, 'n1')
    const first: [string, boolean][] = []
    const second: [string, boolean][] = []
    const one = service.add('channel', 'prices/*', target(first))
    service.add('channel', '**', target(second))
    await registry.enter('channel', 'prices/A')
    await settle()
    expect(registry.held).toHaveLength(1)
    service.remove(one)
    registry.answerAll() // "you own it" reaches a listener that is gone
    await settle()
    registry.answerAll() // the second listener's claim, after the release
    await settle()
    expect(first).toEqual([])
    expect(second).toEqual([['prices/A', true]])
  })
})
