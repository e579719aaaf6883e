import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml'
import type { PathSegment } from './config-schema.js'
import type { IssueTarget } from './validate.js'

export interface Position {
  line: number
  column: number
}

/**
 * Finds where a key path sits in a parsed YAML document. With `target: 'key'` the position of
 * the last key itself (for unknown keys), otherwise of its value. When the full path is not in
 * the document, `exact` is false and the position is that of the deepest node that is.
 */
export function locateInDocument(
  doc: Document,
  lines: LineCounter,
  path: readonly PathSegment[],
  target: IssueTarget,
): { position: Position; exact: boolean } | undefined {
  let node: Node | null | undefined = doc.contents
  let keyNode: Node | null = null
  let found = 0
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc)
    let next: Node | null | undefined
    if (isMap(node)) {
      const pair: Pair | undefined = node.items.find(
        (p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg),
      )
      keyNode = (pair?.key as Node | null | undefined) ?? null
      next = pair ? ((pair.value as Node | null) ?? keyNode) : undefined
    } else if (isSeq(node)) {
      next = node.items[Number(seg)] as Node | undefined
      keyNode = null
    }
    if (!next) break
    node = next
    found++
  }
  const exact = found === path.length
  const at = exact && target === 'key' && keyNode ? keyNode : node
  const offset = at?.range?.[0]
  if (offset === undefined) return undefined
  const { line, col } = lines.linePos(offset)
  return { position: { line, column: col }, exact }
}
