/** Byte arrays joined end to end (a fresh array, even for one part: callers may reuse the parts' storage). */
export const concatBytes = (parts: Iterable<Uint8Array>): Uint8Array => {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}
