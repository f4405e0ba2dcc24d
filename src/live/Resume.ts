/**
 * Exact resume over decoded chunks, pure: which records are the gateway talking to the client (taken out of the
 * data), and which move the resume cursor (the same ones `Cursor.Skipper` counts). shared/spec/databento.md §5.6, §9.
 */
import type { DecodedChunk } from "../dbn/Batch.js"
import { SystemCode } from "../dbn/Constants.js"
import type { DbnRecord, ErrorMsg, SystemMsg } from "../dbn/Records.js"
import * as Cursor from "../source/Cursor.js"

export const isControl = (r: DbnRecord): r is SystemMsg | ErrorMsg => r._tag === "system" || r._tag === "error"

/** Records that never move the cursor: the Skipper's state records, and gateway control (taken out before it). */
export const isState = Cursor.isState

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

export type Advance = Cursor.Advance

/** The cursor over the event records before row `rowEnd` (see `Cursor.advanceEvents`). */
export const advanceEvents = Cursor.advanceEvents

export const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n)

export const isReplayCompleted = (m: SystemMsg): boolean =>
  m.code === SystemCode.REPLAY_COMPLETED || (m.code === SystemCode.UNSET && /^Finished .* replay/.test(m.msg))


/**
 * Cuts a chunk before each of `rows` (ascending MBO row indexes): the pieces, in order, `rows.length + 1` of them.
 * A non-MBO record at a cut row goes with the piece after the cut. Metadata stays on the first piece, a fatal
 * problem on the last. Used where a gap sits inside a chunk (records skipped after slow reading).
 */
export const cutAt = (chunk: DecodedChunk, rows: ReadonlyArray<number>): Array<DecodedChunk> => {
  if (rows.length === 0) return [chunk]
  const mbo = chunk.mbo
  const bounds = [0, ...rows.map((r) => Math.max(0, Math.min(mbo.length, r))), mbo.length]
  const pieces: Array<DecodedChunk> = []
  let k = 0
  for (let p = 0; p + 1 < bounds.length; p++) {
    const lo = bounds[p]!
    const hi = bounds[p + 1]!
    const last = p + 2 === bounds.length
    const mask = new Uint8Array(mbo.length)
    mask.fill(1, lo, hi)
    const others: Array<DbnRecord> = []
    const othersAt: Array<number> = []
    while (k < chunk.others.length && (last || chunk.othersAt[k]! < hi)) {
      others.push(chunk.others[k]!)
      othersAt.push(chunk.othersAt[k]! - lo)
      k++
    }
    pieces.push({
      ...chunk,
      metadata: p === 0 ? chunk.metadata : undefined,
      fatal: last ? chunk.fatal : undefined,
      mbo: Cursor.selectRows(mbo, mask, hi - lo),
      others,
      othersAt
    })
  }
  return pieces
}
