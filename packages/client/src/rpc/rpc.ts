import {
  isErrorCode,
  isValidName,
  type InvokeMessage,
  type RpcErrorMessage,
  type RpcRejectMessage,
  type RpcResultMessage,
} from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { RpcProvider, type RpcContext, type RpcHandler } from './provider.js'

export interface CallOptions {
  /**
   * How long the server waits for a provider's answer (it applies its own default when absent
   * and caps it at its maximum). Counted from when the call is sent: a call made while
   * disconnected waits in the offline queue first.
   */
  timeoutMs?: number
}

/** Extra time the client waits beyond `timeoutMs` for the server's own TIMEOUT answer. */
const LOCAL_GRACE_MS = 2_000
/** The server refuses longer error messages; a provider's message is cut to this. */
const MAX_ERROR_MESSAGE = 4_000

type Answer = RpcResultMessage | RpcErrorMessage | RpcRejectMessage

/** `sb.rpc`: calling names and providing them. */
export class Rpc {
  private readonly providers = new Map<string, RpcProvider>()

  constructor(private readonly conn: Connection) {
    conn.push.inv = (m) => this.invoke(m)
    conn.push.provend = (m) => {
      const provider = this.providers.get(m.n)
      if (!provider) return
      this.providers.delete(m.n)
      provider.fail(new SwitchboardError(m.code, m.msg))
    }
    conn.onRestore(() => {
      for (const p of this.providers.values()) this.register(p)
    })
  }

  /** Calls `name` on one of its providers; resolves with the provider's result. */
  call<R = unknown>(name: string, args?: unknown, options: CallOptions = {}): Promise<R> {
    if (!isValidName(name)) return Promise.reject(new SwitchboardError('INVALID_NAME', `invalid RPC name: ${name}`))
    const body: { t: 'rpc'; n: string; a?: unknown; to?: number } = { t: 'rpc', n: name }
    if (args !== undefined) body.a = args
    const timeoutMs = options.timeoutMs
    if (timeoutMs !== undefined) {
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
        return Promise.reject(new SwitchboardError('INVALID_DATA', 'timeoutMs must be a positive integer'))
      }
      body.to = timeoutMs
    }
    // The server answers TIMEOUT itself; the local timer only covers a server that cannot.
    const local = timeoutMs === undefined ? undefined : timeoutMs + LOCAL_GRACE_MS
    return this.conn.request<R>(body, local === undefined ? { queue: true } : { queue: true, timeoutMs: local })
  }

  /** Provides `name` from this client; registered again after every reconnect. */
  provide<A = unknown, R = unknown>(name: string, handler: RpcHandler<A, R>): RpcProvider {
    const provider = new RpcProvider(name, handler as RpcHandler, (p) => this.stop(p))
    if (!isValidName(name)) {
      provider.fail(new SwitchboardError('INVALID_NAME', `invalid RPC name: ${name}`))
    } else if (this.providers.has(name)) {
      provider.fail(new SwitchboardError('ALREADY_PROVIDED', `this client already provides ${name}`))
    } else {
      this.providers.set(name, provider)
      if (this.conn.state === 'connected') this.register(provider)
    }
    return provider
  }

  private register(provider: RpcProvider): void {
    this.conn.request({ t: 'prov', n: provider.name }).then(
      () => provider.confirm(),
      (error: SwitchboardError) => {
        // A dropped connection is not a failure: the provider is registered again on reconnect.
        if (error.code === 'DISCONNECTED' || error.code === 'CLOSED') return
        if (this.providers.get(provider.name) === provider) this.providers.delete(provider.name)
        provider.fail(error)
      },
    )
  }

  private async stop(provider: RpcProvider): Promise<void> {
    if (this.providers.get(provider.name) !== provider) return
    this.providers.delete(provider.name)
    if (this.conn.state !== 'connected') return
    await this.conn.request({ t: 'unprov', n: provider.name }).catch(() => {})
  }

  /** Runs the handler for one invocation and sends exactly one answer (on the same connection). */
  private invoke(m: InvokeMessage): void {
    const c = m.c
    const session = this.conn.clientId
    let answered = false
    const answer = (message: Answer) => {
      if (answered) return
      answered = true
      // After a reconnect the invocation belonged to the old connection: the server already
      // failed it, and its id means nothing on the new one.
      if (this.conn.clientId !== session) return
      try {
        this.conn.notify(message)
      } catch (err) {
        // Too deep, too large or not JSON: the caller gets the reason instead of waiting for a timeout.
        const reason = err instanceof SwitchboardError ? err.message : 'not JSON-serialisable'
        this.conn.notify({ t: 'rpcerr', c, msg: `the provider's result cannot be sent: ${reason}` })
      }
    }
    const provider = this.providers.get(m.n)
    if (!provider) return answer({ t: 'rpcrej', c })
    const ctx: RpcContext = {
      user: m.u ?? null,
      clientId: m.ci ?? null,
      name: m.n,
      reject: () => answer({ t: 'rpcrej', c }),
    }
    let result: unknown
    try {
      result = provider.handler(m.a, ctx)
    } catch (err) {
      return answer(errorAnswer(c, err))
    }
    if (isThenable(result)) {
      result.then(
        (value) => answer(value === undefined ? { t: 'rpcres', c } : { t: 'rpcres', c, r: value }),
        (err: unknown) => answer(errorAnswer(c, err)),
      )
    } else {
      answer(result === undefined ? { t: 'rpcres', c } : { t: 'rpcres', c, r: result })
    }
  }
}

/** The message (and a catalogue code, if the error has one); never the stack. */
function errorAnswer(c: number, err: unknown): Answer {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : 'the provider failed'
  const msg = raw.length > MAX_ERROR_MESSAGE ? raw.slice(0, MAX_ERROR_MESSAGE) + '…' : raw
  const code = (err as { code?: unknown } | null)?.code
  return isErrorCode(code) ? { t: 'rpcerr', c, msg, code } : { t: 'rpcerr', c, msg }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
