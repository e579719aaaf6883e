import { describe, expect, it } from 'vitest'
import { transition, transitions, type ConnectionEvent, type ConnectionState } from './state-machine.js'

describe('connection state machine', () => {
  it('the happy path: idle → connecting → connected → reconnecting → connected → closed', () => {
    let s: ConnectionState = 'idle'
    const step = (e: ConnectionEvent) => (s = transition(s, e)!.to)
    expect(step('connect')).toBe('connecting')
    expect(step('welcome')).toBe('connected')
    expect(step('lost')).toBe('reconnecting')
    expect(step('retry')).toBe('reconnecting')
    expect(step('welcome')).toBe('connected')
    expect(step('close')).toBe('closed')
  })

  it('terminal failures close for good; close always wins', () => {
    for (const s of ['connecting', 'connected', 'reconnecting'] as const) {
      expect(transition(s, 'fatal')?.to).toBe('closed')
      expect(transition(s, 'close')?.to).toBe('closed')
    }
  })

  it('a reconnect restores state before flushing the queue', () => {
    const effects = transition('reconnecting', 'welcome')!.effects
    expect(effects.indexOf('restore')).toBeLessThan(effects.indexOf('flushQueue'))
  })

  it('events that mean nothing in a state are ignored', () => {
    expect(transition('idle', 'welcome')).toBeUndefined()
    expect(transition('closed', 'lost')).toBeUndefined()
    expect(transition('connected', 'retry')).toBeUndefined()
  })

  it('every transition lands in a known state', () => {
    const states = Object.keys(transitions)
    for (const row of Object.values(transitions)) for (const t of Object.values(row)) expect(states).toContain(t!.to)
  })
})
