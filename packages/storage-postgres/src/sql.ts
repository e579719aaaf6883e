import { StorageError, type StoreWrite } from '@switchboard/storage'

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `records` → `"records"`, `app.records` → `"app"."records"`; anything else is refused. */
export function quoteTable(table: string): string {
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `invalid table name: ${table} (letters, digits and _; optionally schema.table)`,
    )
  }
  return parts.map((p) => `"${p}"`).join('.')
}

const statements = new Map<string, string>()

/**
 * Compare-and-set for a whole round of writes (at most one per name) in one statement.
 * Parameters: positions in the batch, names, expected versions, new versions, JSON texts
 * (null: delete, which leaves a tombstone row with NULL data). Returns the positions that
 * succeeded. Existing names (expected > 0) are updated only at the expected version; new
 * names (expected 0) are inserted only if no row exists.
 */
export function batchStatement(table: string): string {
  let sql = statements.get(table)
  if (sql) return sql
  sql = `WITH input AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) AS t(i, name, expected, next, data)
), upd AS (
  UPDATE ${table} AS r SET version = input.next, data = input.data::jsonb
  FROM input WHERE input.expected > 0 AND r.name = input.name AND r.version = input.expected
  RETURNING input.i
), ins AS (
  INSERT INTO ${table} (name, version, data)
  SELECT name, next, data::jsonb FROM input WHERE expected = 0
  ON CONFLICT (name) DO NOTHING
  RETURNING name
)
SELECT i FROM upd UNION ALL SELECT input.i FROM ins JOIN input ON input.name = ins.name AND input.expected = 0`
  statements.set(table, sql)
  return sql
}

/** Splits a batch into rounds with each name at most once per round, keeping call order per name. */
export function rounds(batch: readonly StoreWrite[]): number[][] {
  const out: number[][] = []
  const seen = new Map<string, number>()
  for (let i = 0; i < batch.length; i++) {
    const name = (batch[i] as StoreWrite).name
    const r = seen.get(name) ?? 0
    seen.set(name, r + 1)
    ;(out[r] ??= []).push(i)
  }
  return out
}
