import type { PathSegment } from './config-schema.js'

/** One problem in a configuration, located as precisely as its origin allows. */
export interface ConfigIssue {
  /** Dotted key path (`limits.maxMessageBytes`); '' for file-level problems. */
  path: string
  message: string
  /** The config file the value came from. */
  file?: string
  /** 1-based position in `file`. */
  line?: number
  column?: number
  /** Where the value came from when not from a file: an env var name or `command line`. */
  source?: string
}

/** Thrown by the loader; `.message` lists every issue, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(readonly errors: ConfigIssue[]) {
    super(errors.map(formatIssue).join('\n'))
  }
}

/** `switchboard.yaml:12:5 limits.maxMessageBytes: invalid size "1 parsec"`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.file
    ? issue.line !== undefined
      ? `${issue.file}:${issue.line}:${issue.column ?? 1}`
      : issue.file
    : issue.source
  if (!issue.path) return where ? `${where}: ${issue.message}` : issue.message
  return `${where ? `${where} ` : ''}${issue.path}: ${issue.message}`
}

/** Dotted path; segments that would make it ambiguous (dots, spaces, empty) are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  return path.map((s) => (typeof s === 'number' || /^[^.\s"]+$/.test(s) ? String(s) : JSON.stringify(s))).join('.')
}

/** Orders issues by file position; issues without one keep their order, after those with one. */
export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => {
      const la = a.issue.line ?? Infinity
      const lb = b.issue.line ?? Infinity
      if (la !== lb) return la - lb
      const ca = a.issue.column ?? 0
      const cb = b.issue.column ?? 0
      return ca !== cb ? ca - cb : a.i - b.i
    })
    .map((x) => x.issue)
}
