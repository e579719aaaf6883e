import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedHook {
  timestamp: string
  signature: string
  body: string
  events: { id: string; type: string; [key: string]: unknown }[]
  /** Checked here with node:crypto alone, the way a backend in any language would. */
  signedCorrectly: boolean
}

/** What to do with the n-th request (0-based): answer with a status, or never answer. */
export type Responder = (index: number) => number | 'hang'

/**
 * A backend receiving hook requests on a loopback port: it checks each signature itself
 * (HMAC-SHA256 of `timestamp.body` with the shared secret) and answers as told.
 */
export class HookReceiver {
  readonly requests: ReceivedHook[] = []
  private readonly hanging = new Set<ServerResponse>()
  private server: Server | undefined

  constructor(
    private readonly secret: string,
    private readonly respond: Responder = () => 200,
  ) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.server = server
    return this
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/hooks`
  }

  /** Every event received, in order, over all requests (retried duplicates included). */
  get events(): ReceivedHook['events'] {
    return this.requests.flatMap((r) => r.events)
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const timestamp = String(req.headers['x-switchboard-timestamp'] ?? '')
    const signature = String(req.headers['x-switchboard-signature'] ?? '')
    const expected = 'v1=' + createHmac('sha256', this.secret).update(`${timestamp}.${body}`).digest('hex')
    const signedCorrectly =
      signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
    const index = this.requests.length
    this.requests.push({
      timestamp,
      signature,
      body,
      events: (JSON.parse(body) as { events: ReceivedHook['events'] }).events,
      signedCorrectly,
    })
    const answer = this.respond(index)
    if (answer === 'hang') {
      this.hanging.add(res)
      return
    }
    res.writeHead(answer, { 'content-type': 'text/plain' }).end(String(answer))
  }
}
