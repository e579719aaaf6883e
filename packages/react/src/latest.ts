import { useInsertionEffect, useRef, type MutableRefObject } from 'react'

/**
 * A ref that always holds the latest committed `value` (callbacks without resubscribing). Set in
 * an insertion effect: it runs before any layout or passive effect that might call the
 * callback, and, unlike a layout effect, says nothing when rendered on the server.
 */
export function useLatest<T>(value: T): MutableRefObject<T> {
  const ref = useRef(value)
  useInsertionEffect(() => {
    ref.current = value
  })
  return ref
}
