export * from './values.js'
export * from './spec.js'
export * from './match.js'
