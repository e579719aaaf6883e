import { randomBytes } from 'node:crypto'
import { isErrorCode, isValidName, type InvokeMessage } from '@switchboard/protocol'
import type { Logger } from 'pino'
import type { AuthUser } from '../auth/authenticator.js'
import { systemClock, type Clock } from '../clock.js'
import { SwitchboardError, toSwitchboardError } from '../errors.js'
import type { Session } from '../session/session.js'
import { Deadlines, type Expiring } from './deadlines.js'
import { runHandler, type RpcHandler, type RpcProviderHandle } from './in-process.js'
import {
  canPickNow,
  type RpcCall,
  type RpcOutcome,
  type RpcRouter,
  type RpcRouterHandler,
  type SyncRpcPicker,
} from '../engine/rpc-router.js'
import type { RpcSessionState } from './session-state.js'

const NONE: ReadonlySet<string> = new Set()

export interface RpcLimits {
  /** Used when a call gives no timeout. */
  defaultTimeoutMs: number
  /** Caps the timeout a caller asks for. */
  maxTimeoutMs: number
}

/** Called once with the call's fate. */
export type CallDone = (error: SwitchboardError | null, result?: unknown) => void

interface PendingCall extends Expiring {
  readonly call: RpcCall
  readonly done: CallDone
  readonly timeoutMs: number
  /** The provider the call was last delivered to. */
  current: string | undefined
  /** Providers that rejected the call or were gone. */
  tried: Set<string> | undefined
}

type LocalProvider = { session: Session; handler?: undefined } | { session?: undefined; handler: RpcHandler }

/** Above this many unanswered invocations, a provider connection's expired entries are swept. */
const SWEEP_ABOVE = 1024

/**
 * RPC in core: the providers of this node (connections and in-process handlers), the calls
 * this node started (timeouts, reject-and-reroute), and the invocations its providers owe an
 * answer. Where a provider lives and which one gets a call is the router's business.
 */
export class RpcService implements RpcRouterHandler {
  private readonly local = new Map<string, LocalProvider>()
  /** Provider connections' state, by session. */
  private readonly sessions = new Map<Session, RpcSessionState>()
  private readonly pending = new Map<string, PendingCall>()
  private readonly prefix = randomBytes(6).toString('base64url') + ':'
  private seq = 0
  private closed = false
  private readonly deadlines: Deadlines<PendingCall>
  /** The router's synchronous pick, when it has one (no promise per call). */
  private readonly picker: SyncRpcPicker | undefined

  constructor(
    private readonly router: RpcRouter,
    private readonly limits: RpcLimits,
    private readonly log: Logger,
    /** Call deadlines are times of this clock (the server's). */
    private readonly clock: Clock = systemClock,
  ) {
    this.deadlines = new Deadlines<PendingCall>((p) => this.expire(p), clock)
    this.picker = canPickNow(router) ? router : undefined
  }

  // ---- calls started on this node -------------------------------------------------------

  /** Starts a call; `done` gets the result or a coded error (NO_PROVIDER, TIMEOUT, …). */
  call(
    name: string,
    args: unknown,
    user: AuthUser | null,
    clientId: string | null,
    timeoutMs: number | undefined,
    done: CallDone,
  ): void {
    if (this.closed) return done(new SwitchboardError('UNAVAILABLE', 'the server is shutting down'))
    if (!isValidName(name)) return done(new SwitchboardError('INVALID_NAME', `invalid RPC name: ${name}`))
    const ms = Math.min(timeoutMs ?? this.limits.defaultTimeoutMs, this.limits.maxTimeoutMs)
    const call: RpcCall = { id: this.prefix + ++this.seq, name, args, user, clientId, deadline: this.clock.now() + ms }
    const p: PendingCall = { call, done, timeoutMs: ms, slot: undefined, current: undefined, tried: undefined }
    this.pending.set(call.id, p)
    this.deadlines.add(p, call.deadline)
    this.route(p)
  }

  /** The promise form, for server-side callers (and the HTTP API). */
  callAsync(name: string, args: unknown, user: AuthUser | null, timeoutMs?: number): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.call(name, args, user, null, timeoutMs, (err, r) => (err ? reject(err) : resolve(r))),
    )
  }

  private route(p: PendingCall): void {
    if (this.picker) {
      this.routeTo(p, this.picker.pickNow(p.call.name, p.tried))
      return
    }
    this.router.pick(p.call.name, p.tried).then(
      (providerId) => {
        if (this.pending.get(p.call.id) === p) this.routeTo(p, providerId) // else: timed out meanwhile
      },
      (err: unknown) => {
        // A coded failure (the cluster engine unreachable: UNAVAILABLE) reaches the caller as is.
        if (!(err instanceof SwitchboardError)) this.log.error({ err, rpc: p.call.name }, 'rpc routing failed')
        this.finish(p, toSwitchboardError(err))
      },
    )
  }

  private routeTo(p: PendingCall, providerId: string | null): void {
    if (providerId === null) {
      const why = p.tried ? `every provider of ${p.call.name} rejected the call` : `no provider for ${p.call.name}`
      this.finish(p, new SwitchboardError('NO_PROVIDER', why))
      return
    }
    p.current = providerId
    this.router.deliver(providerId, p.call)
  }

  onOutcome(callId: string, outcome: RpcOutcome): void {
    const p = this.pending.get(callId)
    if (!p) return // answered after its timeout
    switch (outcome.kind) {
      case 'result':
        this.finish(p, null, outcome.value)
        return
      case 'error': {
        const code = outcome.code !== undefined && isErrorCode(outcome.code) ? outcome.code : 'RPC_ERROR'
        this.finish(p, new SwitchboardError(code, outcome.message))
        return
      }
      case 'reject':
      case 'unavailable':
        if (p.current !== undefined) (p.tried ??= new Set()).add(p.current)
        this.route(p)
        return
      case 'lost':
        this.finish(
          p,
          new SwitchboardError('PROVIDER_LOST', `the provider of ${p.call.name} went away before it answered`),
        )
        return
    }
  }

  private expire(p: PendingCall): void {
    if (this.pending.get(p.call.id) !== p) return
    this.finish(
      p,
      new SwitchboardError('TIMEOUT', `no answer from a provider of ${p.call.name} within ${p.timeoutMs} ms`),
    )
  }

  private finish(p: PendingCall, error: SwitchboardError | null, result?: unknown): void {
    this.pending.delete(p.call.id)
    this.deadlines.remove(p)
    try {
      p.done(error, result)
    } catch (err) {
      this.log.error({ err }, 'rpc completion failed')
    }
  }

  // ---- providers on this node -----------------------------------------------------------

  onInvoke(providerId: string, call: RpcCall, reply: (outcome: RpcOutcome) => void): void {
    const provider = this.local.get(providerId)
    if (!provider) return reply({ kind: 'unavailable' })
    if (provider.handler) return runHandler(provider.handler, call, reply)
    const session = provider.session
    const state = this.sessions.get(session)
    if (session.phase === 'closed' || !state?.provided.has(call.name)) return reply({ kind: 'unavailable' })
    if (state.invocations.size >= SWEEP_ABOVE) sweep(state, this.clock.now())
    const c = ++state.lastInvocation
    state.invocations.set(c, { reply, deadline: call.deadline })
    const m: InvokeMessage = { t: 'inv', c, n: call.name }
    if (call.args !== undefined) m.a = call.args
    if (call.user) m.u = call.user
    if (call.clientId !== null) m.ci = call.clientId
    session.send(m)
  }

  /** A provider connection answered invocation `c`; unknown or late answers are ignored. */
  answer(session: Session, c: number, outcome: RpcOutcome): void {
    const invocations = this.sessions.get(session)?.invocations
    const inv = invocations?.get(c)
    if (!inv) return
    invocations!.delete(c)
    inv.reply(outcome)
  }

  async provide(session: Session, name: string): Promise<void> {
    if (!isValidName(name)) throw new SwitchboardError('INVALID_NAME', `invalid RPC name: ${name}`)
    let state = this.sessions.get(session)
    if (!state) this.sessions.set(session, (state = { provided: new Set(), invocations: new Map(), lastInvocation: 0 }))
    if (state.provided.has(name))
      throw new SwitchboardError('ALREADY_PROVIDED', `this connection already provides ${name}`)
    state.provided.add(name)
    this.local.set(session.id, { session })
    try {
      await this.router.register(name, session.id)
    } catch (err) {
      state.provided.delete(name)
      throw err
    }
    // Closed while registering: the cleanup already ran, so undo what it could not see.
    if (session.phase === 'closed') await this.router.unregister(name, session.id)
  }

  async unprovide(session: Session, name: string): Promise<void> {
    if (!this.sessions.get(session)?.provided.delete(name)) return
    await this.router.unregister(name, session.id)
  }

  /** A connection closed: it leaves every pool, and the calls it owed an answer fail. */
  removeSession(session: Session): void {
    const state = this.sessions.get(session)
    if (!state) return
    this.sessions.delete(session)
    this.local.delete(session.id)
    state.provided.clear()
    this.router.unregisterAll(session.id).catch((err: unknown) => this.log.error({ err }, 'rpc unregister failed'))
    const owed = [...state.invocations.values()]
    state.invocations.clear()
    for (const inv of owed) inv.reply({ kind: 'lost' })
  }

  /** Names this connection provides. */
  provided(session: Session): ReadonlySet<string> {
    return this.sessions.get(session)?.provided ?? NONE
  }

  /** Registers an in-process handler; it takes part in routing like a client provider. */
  handle(name: string, handler: RpcHandler): RpcProviderHandle {
    if (!isValidName(name)) throw new SwitchboardError('INVALID_NAME', `invalid RPC name: ${name}`)
    if (typeof handler !== 'function') throw new TypeError('rpc handler must be a function')
    const id = `${this.prefix}h${++this.seq}`
    this.local.set(id, { handler })
    const ready = this.router.register(name, id)
    ready.catch((err: unknown) => this.log.error({ err, rpc: name }, 'rpc handler registration failed'))
    let stopped: Promise<void> | undefined
    return {
      ready,
      stop: () => {
        stopped ??= (async () => {
          await ready.catch(() => {})
          this.local.delete(id)
          await this.router.unregister(name, id)
        })()
        return stopped
      },
    }
  }

  /** Calls waiting for an answer on this node. */
  get pendingCount(): number {
    return this.pending.size
  }

  async close(): Promise<void> {
    this.closed = true
    for (const p of [...this.pending.values()])
      this.finish(p, new SwitchboardError('UNAVAILABLE', 'the server is shutting down'))
    this.deadlines.clear()
    this.local.clear()
  }
}

/** Drops invocations nobody waits for any more (their callers timed out). */
function sweep(state: RpcSessionState, now: number): void {
  for (const [c, inv] of state.invocations) if (inv.deadline < now) state.invocations.delete(c)
}
