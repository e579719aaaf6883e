import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { closeCodes, errorCodes, errorDescriptions } from '@switchboard/protocol'

const protocol = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8')

describe('docs/protocol.md stays true to the code catalogue', () => {
  it.each(Object.entries(errorCodes))('documents error code %s with its HTTP status', (code, info) => {
    expect(protocol).toMatch(new RegExp(`\\| \`${code}\` \\| ${info.http} \\|`))
    expect(protocol).toContain(errorDescriptions[code as keyof typeof errorDescriptions])
  })
  it.each(Object.keys(closeCodes))('documents close code %s', (code) => {
    expect(protocol).toMatch(new RegExp(`\\| ${code} \\| \``))
  })
})
