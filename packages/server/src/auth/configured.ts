import type { Logger } from 'pino'
import type { SwitchboardConfig } from '../config/types.js'
import { ConfigError, type ConfigIssue } from '../config/issues.js'
import { SwitchboardError } from '../errors.js'
import { ApiKeys } from './api-keys.js'
import type { Authenticator, AuthResult, Credentials } from './authenticator.js'
import { createBackendUser } from './backend.js'
import { JwtVerifier, looksLikeJwt } from './jwt.js'
import { JwtConfigError } from './jwt-keys.js'
import { WebhookVerifier, type FetchLike } from './webhook.js'

/**
 * The authenticator `createServer` builds from `auth`:
 * - no token: the anonymous user when `auth.anonymous` is on, else AUTH_FAILED;
 * - a token equal to one of `auth.apiKeys`: the trusted backend user (bypasses rules);
 * - a JWT-shaped token with `auth.jwt` configured: the JWT decides (no fallback);
 * - any other token: the webhook when configured, else AUTH_FAILED.
 */
export class ConfiguredAuthenticator implements Authenticator {
  constructor(
    private readonly parts: { anonymous: boolean; apiKeys: ApiKeys; jwt?: JwtVerifier; webhook?: WebhookVerifier },
  ) {}

  authenticate(credentials: Credentials): AuthResult | Promise<AuthResult> {
    // The anonymous answer needs no I/O: returned as is, the connection opens in the same turn.
    if (credentials.token === undefined && this.parts.anonymous) return { user: null }
    return this.verify(credentials.token)
  }

  private async verify(token: string | undefined): Promise<AuthResult> {
    const { apiKeys, jwt, webhook } = this.parts
    if (token === undefined) {
      throw new SwitchboardError('AUTH_FAILED', 'a token is required (anonymous access is off)')
    }
    if (token.length === 0) throw new SwitchboardError('AUTH_FAILED', 'the token is empty')
    if (apiKeys.matches(token)) return { user: createBackendUser() }
    if (jwt && looksLikeJwt(token)) return jwt.verify(token)
    if (webhook) return webhook.verify(token)
    throw new SwitchboardError(
      'AUTH_FAILED',
      jwt ? 'the token is not a JWT' : 'this server has no token verification configured',
    )
  }
}

export interface AuthenticatorOptions {
  /** For tests: replaces the global fetch used by the webhook. */
  fetch?: FetchLike
  /** The server's clock (`ServerOptions.clock`): webhook cache and session expiry. */
  now?: () => number
}

/** Builds the authenticator from config; throws a ConfigError naming the bad `auth` key. */
export function createConfiguredAuthenticator(
  config: SwitchboardConfig,
  log: Logger,
  options: AuthenticatorOptions = {},
): Authenticator {
  const { auth } = config
  let jwt: JwtVerifier | undefined
  if (auth.jwt) {
    try {
      jwt = new JwtVerifier(auth.jwt)
    } catch (e) {
      if (e instanceof JwtConfigError) throw new ConfigError([{ path: e.path, message: e.reason }])
      throw e
    }
    if (auth.jwt.secret !== undefined && Buffer.byteLength(auth.jwt.secret) < 32) {
      log.warn('auth.jwt.secret is shorter than 32 bytes; use a long random secret (openssl rand -base64 48)')
    }
  }
  const webhook = auth.webhook ? new WebhookVerifier(auth.webhook, log, options.fetch, options.now) : undefined
  return new ConfiguredAuthenticator({
    anonymous: auth.anonymous,
    apiKeys: new ApiKeys(auth.apiKeys ?? []),
    jwt,
    webhook,
  })
}

/** The same checks as createConfiguredAuthenticator, as issues (for `switchboard check`). */
export function authConfigIssues(config: SwitchboardConfig): ConfigIssue[] {
  if (!config.auth.jwt) return []
  try {
    new JwtVerifier(config.auth.jwt)
    return []
  } catch (e) {
    if (e instanceof JwtConfigError) return [{ path: e.path, message: e.reason }]
    throw e
  }
}
