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

