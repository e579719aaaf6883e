import { isIndexSegment, type QueryScalar } from '@switchboard/protocol'
import { sqlString, type SqlDialect, type SqlParams } from '@switchboard/storage'

/**
 * Query paths as SQLite JSON functions on the `data` column. `json_type` tells the types apart
 * (json_extract alone turns true into 1 and JSON null into SQL NULL). A numeric segment means
 * an array index or an object key: `$.a[0]` only exists on arrays and `$.a."0"` only on
 * objects, so COALESCE over both spellings finds whichever exists. Every segment is quoted,
 * so keys with spaces, quotes or brackets are plain labels.
 */
export const sqliteDialect: SqlDialect = {
  rank(segments) {
    return `CASE ${typeOf(segments)} WHEN 'null' THEN 1 WHEN 'false' THEN 2 WHEN 'true' THEN 3 WHEN 'integer' THEN 4 WHEN 'real' THEN 4 WHEN 'text' THEN 5 WHEN 'array' THEN 6 WHEN 'object' THEN 6 ELSE 0 END`
  },
  num(segments) {
    return `CASE WHEN ${typeOf(segments)} IN ('integer', 'real') THEN ${extract(segments)} ELSE 0 END`
  },
  str(segments) {
    return `CASE WHEN ${typeOf(segments)} = 'text' THEN ${extract(segments)} ELSE '' END`
  },
  arrayContains(segments, value, params) {
    // One test per spelling, each with its own parameter (placeholders are positional).
    return `(${jsonPaths(segments)
      .map(
        (p) =>
          `(json_type(data, ${p}) = 'array' AND EXISTS (SELECT 1 FROM json_each(data, ${p}) WHERE ${elementTest(value, params)}))`,
      )
      .join(' OR ')})`
  },
  inCollection(collection) {
    // rtrim(name, <name without '/'>) keeps the name up to its last '/'. The range lets the
    // primary key narrow the scan when no declared index applies.
    return `rtrim(name, replace(name, '/', '')) = ${sqlString(`${collection}/`)} AND name > ${sqlString(`${collection}/`)} AND name < ${sqlString(`${collection}0`)}`
  },
  // BINARY collation compares UTF-8 bytes: code point order.
  name: 'name',
}

/** The collection test alone: the WHERE of a collection's partial indexes. */
export function sqliteCollectionPredicate(collection: string): string {
  return `rtrim(name, replace(name, '/', '')) = ${sqlString(`${collection}/`)}`
}

function elementTest(value: QueryScalar, params: SqlParams): string {
  if (value === null) return `type = 'null'`
  if (typeof value === 'boolean') return `type = '${value}'`
  if (typeof value === 'number') return `type IN ('integer', 'real') AND value = ${params.add(value)}`
  return `type = 'text' AND value = ${params.add(value)}`
}

function typeOf(segments: readonly string[]): string {
  const paths = jsonPaths(segments)
  const calls = paths.map((p) => `json_type(data, ${p})`)
  return calls.length === 1 ? (calls[0] as string) : `COALESCE(${calls.join(', ')})`
}

function extract(segments: readonly string[]): string {
  const calls = jsonPaths(segments).map((p) => `json_extract(data, ${p})`)
  return calls.length === 1 ? (calls[0] as string) : `COALESCE(${calls.join(', ')})`
}

/** Every spelling of the path as a SQL string literal (two per numeric segment). */
function jsonPaths(segments: readonly string[]): string[] {
  let paths = ['$']
  for (const s of segments) {
    const label = `."${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
    paths = isIndexSegment(s) ? paths.flatMap((p) => [`${p}[${s}]`, p + label]) : paths.map((p) => p + label)
  }
  return paths.map(sqlString)
}
