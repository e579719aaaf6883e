import { readFileSync } from 'node:fs'
import type { ConfigIssue } from './issues.js'

/**
 * Reads a text file the user named (config, permissions, rule cases); a failure becomes one
 * issue in the config error style instead of an exception with a stack.
 */
export function readUserFile(
  file: string,
  what: string,
  at: { label: string; path?: string },
): { text: string; issue?: undefined } | { text?: undefined; issue: ConfigIssue } {
  try {
    return { text: readFileSync(file, 'utf8') }
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    const why = err.code === 'ENOENT' ? 'file not found' : err.message
    return { issue: { path: at.path ?? '', file: at.label, message: `cannot read ${what}: ${why}` } }
  }
}
