import { PROTOCOL_VERSION, type WelcomeMessage } from '@switchboard/protocol'
import type { AuthUser } from '../auth/authenticator.js'
import type { SwitchboardConfig } from '../config/types.js'

/** The part of the welcome every connection of a server shares (`hb`, `limits`), encoded once. */
const tails = new WeakMap<SwitchboardConfig, string>()

/**
 * The `welcome` frame's text, as `JSON.stringify` of a WelcomeMessage would write it. Only the
 * hello's id, the client id and the user differ between connections; the rest is one string
 * per server, so a connect encodes a few short values, not the whole message.
 */
export function welcomeText(
  helloId: number,
  clientId: string,
  user: AuthUser | null,
  config: SwitchboardConfig,
): string {
  let tail = tails.get(config)
  if (tail === undefined) {
    const { intervalMs, timeoutMs } = config.server.heartbeat
    const { maxMessageBytes, maxJsonDepth, maxUpdateOps } = config.limits
    const shared: Pick<WelcomeMessage, 'hb' | 'limits'> = {
      hb: { interval: intervalMs, timeout: timeoutMs, polls: true },
      limits: { maxMessageBytes, maxJsonDepth, maxUpdateOps },
    }
    // `{"hb":…,"limits":…}` without its opening brace: it closes the message.
    tail = JSON.stringify(shared).slice(1)
    tails.set(config, tail)
  }
  // helloId is a validated integer (wire schema `Id`); the client id and user are JSON-encoded.
  const userJson = user ? JSON.stringify({ ...user }) : 'null'
  return `{"t":"welcome","id":${helloId},"v":${PROTOCOL_VERSION},"client":${JSON.stringify(clientId)},"user":${userJson},${tail}`
}
