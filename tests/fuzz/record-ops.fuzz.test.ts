import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMutation, isPlainObject, RecordOpError, type RecordMutation } from '@switchboard/protocol'
import { createServer, type SwitchboardServer } from '@switchboard/server'
import { fuzzRuns } from './fuzz-settings.js'
import { ModelError, modelApply, type Doc, type Write } from './record-model.js'

// Few key names, so paths collide with what documents hold: objects, arrays and scalars meet.
const key = fc.constantFrom('a', 'b', 'c', '0', '1', '2')
const validPath = fc.array(key, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'))
const badPath = fc.constantFrom('', 'a..b', '.a', 'a.', '__proto__', 'a.constructor', 'prototype.x', 'x'.repeat(1025))
const path = fc.oneof({ weight: 9, arbitrary: validPath }, { weight: 1, arbitrary: badPath })

const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -1000, max: 1000 }),
    fc.constant(null),
    fc.boolean(),
    fc.string({ maxLength: 4 }),
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(key, tie('json'), { maxKeys: 3 }),
  ),
}))
const doc = fc.dictionary(key, json, { maxKeys: 4 }) as fc.Arbitrary<Doc>
const amount = fc.oneof(fc.integer({ min: -100, max: 100 }), fc.constant(Number.MAX_VALUE), fc.double())
const write: fc.Arbitrary<Write> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path, value: json }),
  fc.record({ kind: fc.constant('set' as const), value: fc.oneof(doc, json) }),
  fc.record({
    kind: fc.constant('update' as const),
    ops: fc.record(
      {
        increment: fc.dictionary(validPath, amount, { maxKeys: 3 }),
        push: fc.dictionary(path, json, { maxKeys: 2 }),
        unset: fc.array(path, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.constant({ kind: 'delete' as const }),
)

function model(before: Doc | undefined, w: Write): { ok: true; doc: Doc | undefined } | { ok: false } {
  try {
    return { ok: true, doc: modelApply(before, w) }
  } catch (e) {
    if (e instanceof ModelError) return { ok: false }
    throw e
  }
}

describe('record paths and update ops against a reference model', () => {
  it('applyMutation agrees with the model, fails only with RecordOpError, and never changes its input', () => {
    fc.assert(
      fc.property(fc.option(doc, { nil: undefined }), write, (before, w) => {
        const snapshot = structuredClone(before)
        const expected = model(before, w)
        let actual: { ok: true; doc: unknown } | { ok: false }
        try {
          actual = { ok: true, doc: applyMutation(before, w as RecordMutation) }
        } catch (e) {
          expect(e).toBeInstanceOf(RecordOpError)
          actual = { ok: false }
        }
        expect(actual).toEqual(expected)
        expect(before).toEqual(snapshot)
      }),
      fuzzRuns(2000),
    )
  })

  describe('through server.records', () => {
    let server: SwitchboardServer
    beforeAll(async () => {
      server = createServer({ storage: { type: 'memory' }, log: { level: 'silent' } })
      await server.ready
    })
    afterAll(() => server.close())

    it('every write sequence ends where the model does; each committed write adds exactly 1 to the version', async () => {
      let n = 0
      await fc.assert(
        fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 12 }), async (writes) => {
          const name = `fuzz/r${++n}`
          let expected: Doc | undefined
          let version = 0
          for (const w of writes) {
            // The server also refuses an update without operations (it would change nothing).
            const next = isEmptyUpdate(w) ? { ok: false as const } : model(expected, w)
            const outcome = await serverWrite(server, name, w).then(
              (r) => ({ ok: true as const, version: r.version }),
              (e: { code?: string }) => ({ ok: false as const, code: e.code }),
            )
            if (!next.ok) {
              expect(outcome).toMatchObject({ ok: false, code: expect.stringMatching(/^INVALID_/) })
              continue
            }
            expect(outcome.ok).toBe(true)
            if (!outcome.ok) continue
            // Deleting what does not exist changes nothing, so it takes no version.
            const changes = !(w.kind === 'delete' && expected === undefined)
            expect(outcome.version).toBe(changes ? version + 1 : version)
            version = outcome.version
            expected = next.doc
            const stored = await server.records.get(name)
            expect(stored === null ? undefined : stored.data).toEqual(expected)
          }
        }),
        fuzzRuns(80),
      )
    })
  })
})

function isEmptyUpdate(w: Write): boolean {
  if (w.kind !== 'update') return false
  const { increment = {}, push = {}, unset = [] } = w.ops
  return Object.keys(increment).length + Object.keys(push).length + unset.length === 0
}

function serverWrite(server: SwitchboardServer, name: string, w: Write): Promise<{ version: number }> {
  if (w.kind === 'delete') return server.records.delete(name)
  if (w.kind === 'update') return server.records.update(name, w.ops)
  if (w.path !== undefined) return server.records.set(name, w.path, w.value)
  return isPlainObject(w.value) ? server.records.set(name, w.value) : server.records.set(name, w.value as Doc) // not an object: the server must refuse it like the model
}
