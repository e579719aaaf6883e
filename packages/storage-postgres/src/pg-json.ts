import { isIndexSegment } from '@switchboard/protocol'
import { sqlString, type SqlDialect } from '@switchboard/storage'

/**
 * Query paths as jsonb operators on the `data` column. `->` with a text key only reads
 * objects and with an integer reads arrays, so a numeric segment is COALESCE of both
 * (and JSON null stays jsonb 'null', not SQL NULL). Strings compare under the "C" collation
 * (code point order) whatever the database's default collation is; numbers as `numeric`.
 */
export const postgresDialect: SqlDialect = {
  rank(segments) {
    const x = valueAt(segments)
    return `CASE jsonb_typeof(${x}) WHEN 'null' THEN 1 WHEN 'boolean' THEN CASE WHEN ${x} = 'true'::jsonb THEN 3 ELSE 2 END WHEN 'number' THEN 4 WHEN 'string' THEN 5 WHEN 'array' THEN 6 WHEN 'object' THEN 6 ELSE 0 END`
  },
  num(segments) {
    const x = valueAt(segments)
    return `CASE WHEN jsonb_typeof(${x}) = 'number' THEN (${x})::numeric ELSE 0 END`
  },
  str(segments) {
    const x = valueAt(segments)
    return `(CASE WHEN jsonb_typeof(${x}) = 'string' THEN ${x} #>> '{}' ELSE '' END COLLATE "C")`
  },
  arrayContains(segments, value, params) {
    // jsonb containment of a one-element array: a top-level element equal to the value
    // (numbers numerically, everything else exactly).
    const x = valueAt(segments)
    return `(jsonb_typeof(${x}) = 'array' AND ${x} @> (${params.add(JSON.stringify([value]))})::jsonb)`
  },
  inCollection(collection) {
    return postgresCollectionPredicate(collection)
  },
  name: 'name COLLATE "C"',
}

/** True for names `<collection>/<segment>`: the name up to its last '/' equals `<collection>/`. */
export function postgresCollectionPredicate(collection: string): string {
  return `left(name, length(name) - strpos(reverse(name), '/') + 1) = ${sqlString(`${collection}/`)}`
}

function valueAt(segments: readonly string[]): string {
  let x = 'data'
  for (const s of segments) {
    // (`-> 0` on a scalar returns the scalar itself, hence the array test.)
    x = isIndexSegment(s)
      ? `COALESCE(CASE WHEN jsonb_typeof(${x}) = 'array' THEN ${x} -> ${s} END, ${x} -> ${sqlString(s)})`
      : `${x} -> ${sqlString(s)}`
  }
  return x
}
