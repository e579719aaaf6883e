export * from './types.js'
export * from './units.js'
export * from './resolve.js'
export * from './issues.js'
export { ConfigSchema } from './config-schema.js'
export {
  validateConfig,
  assertValidConfig,
  type ConfigSource,
  type IssueLocation,
  type IssueTarget,
} from './validate.js'
export { readEnvOverrides, ENV_PREFIX, type EnvOverride } from './env.js'
export { loadConfig, loadConfigFile, type LoadConfigOptions } from './load.js'
