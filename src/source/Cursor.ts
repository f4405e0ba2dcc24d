/**
 * Resume cursor: "every record with ts_event < tsEvent, plus the first `seen` records whose ts_event
 * equals tsEvent, have been processed". Counting records at the boundary timestamp is what makes
 * resumption exact when many records share one ts_event. Pure functions; no Effect.
 */
import { allocMboBatch, type DecodedChunk, type MboBatch } from "../dbn/Batch.js"
import { Flags } from "../dbn/Constants.js"
import type { DbnRecord } from "../dbn/Records.js"

export interface Cursor {
  /** ns since epoch. */
  readonly tsEvent: bigint
  /** Records already processed whose ts_event equals `tsEvent`. */
  readonly seen: number
}

export const encode = (c: Cursor): string => JSON.stringify({ tsEvent: c.tsEvent.toString(), seen: c.seen })

export const decode = (s: string): Cursor | undefined => {
  try {
    const o = JSON.parse(s) as { tsEvent?: unknown; seen?: unknown }
    if (typeof o.tsEvent !== "string" || typeof o.seen !== "number") return undefined
    return { tsEvent: BigInt(o.tsEvent), seen: o.seen }
  } catch {
    return undefined
  }
}

/**
 * Definitions, mappings and gateway control messages are state, not events: the cursor neither counts nor skips
 * them (their ts_event is often gateway wall time, far from the market events), and replaying them is harmless.
 */
export const isState = (r: DbnRecord): boolean =>
  r._tag === "definition" || r._tag === "symbolMapping" || r._tag === "system" || r._tag === "error"

export interface Advance {
  readonly cursor: Cursor | undefined
  /** Event records passed (MBO rows and non-state records). */
  readonly events: number
  /** ts_event of the first event passed, when any. */
  readonly first: bigint | undefined
}

/**
 * Advances the cursor over the event records of `chunk` (MBO rows and other non-state records: exactly the ones
 * `Skipper` counts) before row `rowEnd`, in stream order. Assumes ts_event is non-decreasing along the stream
 * (true of one Databento channel replayed by ts_event).
 * `snapshotsAreState`: MBO rows flagged F_SNAPSHOT neither count nor move the cursor. For a live stream: a gateway
 * snapshot is the book as it stands, never part of a replay from the cursor, so counting its rows would make a
 * resume skip real records that share their timestamp.
 */
export const advanceEvents = (
  cursor: Cursor | undefined,
  chunk: DecodedChunk,
  rowEnd: number = chunk.mbo.length,
  snapshotsAreState = false
): Advance => {
  let hi = -1
  let lo = 0
  let seen = 0
  if (cursor !== undefined) {
    hi = Number(cursor.tsEvent >> 32n)
    lo = Number(cursor.tsEvent & 0xffffffffn)
    seen = cursor.seen
  }
  let events = 0
  let fHi = -1
  let fLo = 0
  const mbo = chunk.mbo
  const others = chunk.others
  const at = chunk.othersAt
  // The step over one record is written out twice below rather than shared by a closure: variables a closure
  // captures live in a heap context, where every new u32 value is a fresh HeapNumber (tens of MB per session).
  const eHi = mbo.tsEventHi
  const eLo = mbo.tsEventLo
  const flags = mbo.flags
  let k = 0
  const end = Math.min(rowEnd, mbo.length)
  for (let i = 0; i <= end; i++) {
    // Records positioned at `end` belong to the part before it only when `end` is the chunk's end.
    while (k < others.length && at[k]! <= i && (i < end || end === mbo.length)) {
      const r = others[k++]!
      if (isState(r)) continue
      const ts = r.hd.ts_event
      const h = Number(ts >> 32n)
      const l = Number(ts & 0xffffffffn)
      if (events++ === 0) {
        fHi = h
        fLo = l
      }
      if (h === hi && l === lo) seen++
      else if (h > hi || (h === hi && l > lo)) {
        hi = h
        lo = l
        seen = 1
      }
    }
    if (i === end) break
    if (snapshotsAreState && (flags[i]! & Flags.SNAPSHOT) !== 0) continue
    const h = eHi[i]!
    const l = eLo[i]!
    if (events++ === 0) {
      fHi = h
      fLo = l
    }
    if (h === hi && l === lo) seen++
    else if (h > hi || (h === hi && l > lo)) {
      hi = h
      lo = l
      seen = 1
    }
  }
  return {
    cursor: hi < 0 ? cursor : { tsEvent: (BigInt(hi) << 32n) | BigInt(lo >>> 0), seen },
    events,
    first: fHi < 0 ? undefined : (BigInt(fHi) << 32n) | BigInt(fLo >>> 0)
  }
}

/**
 * Advances a cursor over a chunk that was fully processed: `advanceEvents(cursor, chunk).cursor`, read from the
 * chunk's tail. With ts_event non-decreasing (the same assumption), the cursor after a chunk is its last event's
 * timestamp and the events at the end that share it (plus the cursor's own count when they fill the chunk), so only
 * that tail is read, not every row. A chunk whose last event is earlier than the cursor leaves it where it is.
 */
export const advance = (cursor: Cursor | undefined, chunk: DecodedChunk): Cursor | undefined => {
  const mbo = chunk.mbo
  const eHi = mbo.tsEventHi
  const eLo = mbo.tsEventLo
  const others = chunk.others
  const at = chunk.othersAt
  let i = mbo.length - 1
  let k = others.length - 1
  let hi = -1
  let lo = 0
  let seen = 0
  let whole = true
  // Backwards in stream order: `others[k]` comes right before row `at[k]`, so it is after row i when at[k] > i.
  for (;;) {
    let h: number
    let l: number
    if (k >= 0 && at[k]! > i) {
      const r = others[k--]!
      if (isState(r)) continue
      h = Number(r.hd.ts_event >> 32n)
      l = Number(r.hd.ts_event & 0xffffffffn)
    } else if (i >= 0) {
      h = eHi[i]!
      l = eLo[i--]!
    } else break
    if (hi < 0) {
      hi = h
      lo = l
    } else if (h !== hi || l !== lo) {
      whole = false
      break
    }
    seen++
  }
  if (hi < 0) return cursor
  if (cursor !== undefined) {
    const cHi = Number(cursor.tsEvent >> 32n)
    const cLo = Number(cursor.tsEvent & 0xffffffffn)
    if (hi < cHi || (hi === cHi && lo < cLo)) return cursor
    if (whole && hi === cHi && lo === cLo) seen += cursor.seen
  }
  return { tsEvent: (BigInt(hi) << 32n) | BigInt(lo >>> 0), seen }
}

/**
 * Drops every record the cursor says was already processed. `state` carries how many records at the
 * cursor's timestamp were dropped so far (across chunks); returns the chunk unchanged when nothing is dropped.
 */
export class Skipper {
  private readonly hi: number
  private readonly lo: number
  private toSkip: number
  private done = false

  constructor(readonly cursor: Cursor) {
    this.hi = Number(cursor.tsEvent >> 32n)
    this.lo = Number(cursor.tsEvent & 0xffffffffn)
    this.toSkip = cursor.seen
  }

  /** True once a record past the cursor was seen: later chunks pass through untouched. */
  get passed(): boolean {
    return this.done
  }

  private keep(h: number, l: number): boolean {
    if (this.done) return true
    if (h < this.hi || (h === this.hi && l < this.lo)) return false
    if (h === this.hi && l === this.lo && this.toSkip > 0) {
      this.toSkip--
      return false
    }
    this.done = true
    return true
  }

  apply(chunk: DecodedChunk): DecodedChunk {
    if (this.done) return chunk
    const mbo = chunk.mbo
    const keepRows = new Uint8Array(mbo.length)
    const keptOthers: Array<DbnRecord> = []
    const keptAt: Array<number> = []
    let kept = 0
    let k = 0
    const others = chunk.others
    const at = chunk.othersAt
    for (let i = 0; i <= mbo.length; i++) {
      while (k < others.length && at[k] === i) {
        const r = others[k]!
        const ts = r.hd.ts_event
        if (isState(r) || this.keep(Number(ts >> 32n), Number(ts & 0xffffffffn))) {
          keptOthers.push(r)
          keptAt.push(kept)
        }
        k++
      }
      if (i === mbo.length) break
      if (this.keep(mbo.tsEventHi[i]!, mbo.tsEventLo[i]!)) {
        keepRows[i] = 1
        kept++
      }
    }
    if (kept === mbo.length && keptOthers.length === others.length) return chunk
    return { ...chunk, mbo: selectRows(mbo, keepRows, kept), others: keptOthers, othersAt: keptAt }
  }
}

/** Copies the rows whose mask byte is 1 into a fresh batch. */
export const selectRows = (src: MboBatch, mask: Uint8Array, count: number): MboBatch => {
  const out = allocMboBatch(count, src.tsOutHi !== undefined)
  let j = 0
  for (let i = 0; i < src.length; i++) {
    if (mask[i] === 0) continue
    copyRow(src, i, out, j++)
  }
  out.length = j
  return out
}

export const copyRow = (src: MboBatch, i: number, dst: MboBatch, j: number): void => {
  dst.publisherId[j] = src.publisherId[i]!
  dst.instrumentId[j] = src.instrumentId[i]!
  dst.tsEventHi[j] = src.tsEventHi[i]!
  dst.tsEventLo[j] = src.tsEventLo[i]!
  dst.orderIdHi[j] = src.orderIdHi[i]!
  dst.orderIdLo[j] = src.orderIdLo[i]!
  dst.price[j] = src.price[i]!
  dst.priceHi[j] = src.priceHi[i]!
  dst.priceLo[j] = src.priceLo[i]!
  dst.size[j] = src.size[i]!
  dst.flags[j] = src.flags[i]!
  dst.channelId[j] = src.channelId[i]!
  dst.action[j] = src.action[i]!
  dst.side[j] = src.side[i]!
  dst.tsRecvHi[j] = src.tsRecvHi[i]!
  dst.tsRecvLo[j] = src.tsRecvLo[i]!
  dst.tsInDelta[j] = src.tsInDelta[i]!
  dst.sequence[j] = src.sequence[i]!
  if (src.tsOutHi !== undefined && dst.tsOutHi !== undefined && src.tsOutLo !== undefined && dst.tsOutLo !== undefined) {
    dst.tsOutHi[j] = src.tsOutHi[i]!
    dst.tsOutLo[j] = src.tsOutLo[i]!
  }
}
