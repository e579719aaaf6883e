/** How far into a frame `idFromHead` looks. */
const HEAD_CHARS = 1024
const ID = /^(0|[1-9][0-9]{0,15})\s*[,}]/
const PRIMITIVE = /^(?:-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null)/

/**
 * The request id of a frame the session will not parse (too large, or not valid JSON), read
 * from its first characters so that the refusal can still answer the request. Clients put `t`
 * and `id` before the payload (the SDK does): this walks the top-level keys of an object frame
 * within the first HEAD_CHARS characters, skipping string, number and literal values, and
 * gives up at an object or array value. Costs at most HEAD_CHARS steps whatever the frame size.
 */
export function idFromHead(text: string): number | undefined {
  const end = Math.min(text.length, HEAD_CHARS)
  let i = skipSpace(text, 0, end)
  if (text[i] !== '{') return undefined
  i++
  while (i < end) {
    i = skipSpace(text, i, end)
    if (text[i] !== '"') return undefined
    const keyEnd = stringEnd(text, i, end)
    if (keyEnd < 0) return undefined
    const key = text.slice(i + 1, keyEnd)
    i = skipSpace(text, keyEnd + 1, end)
    if (text[i] !== ':') return undefined
    i = skipSpace(text, i + 1, end)
    const rest = text.slice(i, Math.min(end, i + 40))
    if (key === 'id') {
      const m = ID.exec(rest)
      const id = m ? Number(m[1]) : NaN
      return Number.isSafeInteger(id) ? id : undefined
    }
    if (text[i] === '"') {
      const valueEnd = stringEnd(text, i, end)
      if (valueEnd < 0) return undefined
      i = valueEnd + 1
    } else {
      const m = PRIMITIVE.exec(rest)
      if (!m) return undefined // an object or array value: too costly to skip
      i += m[0].length
    }
    i = skipSpace(text, i, end)
    if (text[i] !== ',') return undefined
    i++
  }
  return undefined
}

function skipSpace(text: string, i: number, end: number): number {
  while (i < end && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++
  return i
}

/** The index of the quote closing the string that opens at `start`, or -1 before `end`. */
function stringEnd(text: string, start: number, end: number): number {
  for (let i = start + 1; i < end; i++) {
    const c = text[i]
    if (c === '\\') i++
    else if (c === '"') return i
  }
  return -1
}
