import { describe, expect, it } from 'vitest'
import { Deadlines, type Expiring } from './deadlines.js'

interface Item extends Expiring {
  name: string
}
const item = (name: string): Item => ({ name, slot: undefined })

async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 5000
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('Deadlines', () => {
  it('expires items at (or just after) their deadline, earliest first; removed items never expire', async () => {
    const expired: string[] = []
    const d = new Deadlines<Item>((i) => expired.push(i.name))
    const now = Date.now()
    const [a, b, c, gone] = [item('a'), item('b'), item('c'), item('gone')]
    d.add(c, now + 90)
    d.add(a, now + 20)
    d.add(gone, now + 20)
    d.add(b, now + 50)
    d.remove(gone)
    d.remove(gone) // twice is harmless
    await until(() => expired.length === 3)
    expect(expired).toEqual(['a', 'b', 'c'])
    expect(Date.now() - now).toBeGreaterThanOrEqual(85)
    expect(d.size).toBe(0)
  })

  it('an earlier deadline added later re-arms the timer', async () => {
    const expired: string[] = []
    const d = new Deadlines<Item>((i) => expired.push(i.name))
    d.add(item('late'), Date.now() + 60_000)
    d.add(item('soon'), Date.now() + 10)
    await until(() => expired.length === 1)
    expect(expired).toEqual(['soon'])
    expect(d.size).toBe(1)
    d.clear()
    expect(d.size).toBe(0)
  })
})
