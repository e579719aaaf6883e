import { Type, type TSchema } from '@sinclair/typebox'

/** Building blocks for the per-concept message schemas. */
export const Id = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
export const Name = Type.String({ minLength: 1, maxLength: 255 })
export const Position = Type.Object(
  { offset: Type.Integer({ minimum: 0 }), epoch: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
)
/** Objects reject unknown keys: a message carries exactly what its type says. */
export const strict = <T extends Record<string, TSchema>>(props: T) =>
  Type.Object(props, { additionalProperties: false })
