/**
 * Exact resume over decoded chunks, pure: which records are the gateway talking to the client (taken out of the
 * data), and which move the resume cursor (the same ones `Cursor.Skipper` counts). shared/spec/databento.md §5.6, §9.
 */
import type { DecodedChunk } from "../dbn/Batch.js"
import { SystemCode } from "../dbn/Constants.js"
import type { DbnRecord, ErrorMsg, SystemMsg } from "../dbn/Records.js"
import type * as Cursor from "../source/Cursor.js"

export const isControl = (r: DbnRecord): r is SystemMsg | ErrorMsg => r._tag === "system" || r._tag === "error"

/** Records that never move the cursor: the Skipper's state records, and gateway control (taken out before it). */
export const isState = (r: DbnRecord): boolean =>
  r._tag === "definition" || r._tag === "symbolMapping" || r._tag === "system" || r._tag === "error"

export interface Control {
  readonly record: SystemMsg | ErrorMsg
  /** MBO rows of the chunk before it. */
  readonly row: number
}

/**
 * Takes SystemMsg and ErrorMsg records out of a chunk: they are the gateway talking to the client (heartbeats,
 * acks, errors), carry gateway wall-clock timestamps, and must neither reach the pipeline nor move the cursor.
 */
export const splitControl = (
  chunk: DecodedChunk
): { readonly data: DecodedChunk; readonly control: Array<Control> } => {
  const others = chunk.others
  let n = 0
  for (let k = 0; k < others.length; k++) if (isControl(others[k]!)) n++
  if (n === 0) return { data: chunk, control: [] }
  const control: Array<Control> = []
  const kept: Array<DbnRecord> = []
  const keptAt: Array<number> = []
  for (let k = 0; k < others.length; k++) {
    const r = others[k]!
    if (isControl(r)) control.push({ record: r, row: chunk.othersAt[k]! })
    else {
      kept.push(r)
      keptAt.push(chunk.othersAt[k]!)
    }
  }
  return { data: { ...chunk, others: kept, othersAt: keptAt }, control }
}

export interface Advance {
  readonly cursor: Cursor.Cursor | undefined
  /** Event records passed (MBO rows and non-state records). */
  readonly events: number
  /** ts_event of the first event passed, when any. */
  readonly first: bigint | undefined
}

/**
 * Advances the cursor over the event records of `chunk` (MBO rows and other non-state records, the ones
 * `Cursor.Skipper` counts) before row `rowEnd`, in stream order. Unlike `Cursor.advance` it ignores definitions,
 * symbol mappings and system/error messages, whose timestamps need not follow the event stream.
 */
export const advanceEvents = (
  cursor: Cursor.Cursor | undefined,
  chunk: DecodedChunk,
  rowEnd: number = chunk.mbo.length
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
  const step = (h: number, l: number): void => {
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
  let k = 0
  const end = Math.min(rowEnd, mbo.length)
  for (let i = 0; i <= end; i++) {
    while (k < others.length && at[k]! <= i && (i < end || end === mbo.length)) {
      const r = others[k++]!
      if (isState(r)) continue
      const ts = r.hd.ts_event
      step(Number(ts >> 32n), Number(ts & 0xffffffffn))
    }
    if (i === end) break
    step(mbo.tsEventHi[i]!, mbo.tsEventLo[i]!)
  }
  return {
    cursor: hi < 0 ? cursor : { tsEvent: (BigInt(hi) << 32n) | BigInt(lo >>> 0), seen },
    events,
    first: fHi < 0 ? undefined : (BigInt(fHi) << 32n) | BigInt(fLo >>> 0)
  }
}

export const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n)

export const isReplayCompleted = (m: SystemMsg): boolean =>
  m.code === SystemCode.REPLAY_COMPLETED || (m.code === SystemCode.UNSET && /^Finished .* replay/.test(m.msg))

