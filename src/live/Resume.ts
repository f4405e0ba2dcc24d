/**
 * Exact resume over decoded chunks, pure: which records are the gateway talking to the client (taken out of the
 * data), and which move the resume cursor (the same ones `Cursor.Skipper` counts). shared/spec/databento.md §5.6, §9.
 */
import type { DecodedChunk } from "../dbn/Batch.js"
import { Flags, SystemCode } from "../dbn/Constants.js"
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

/**
 * Finds where an open gap ends in the records after it: the first event's timestamp T (the connection may have
 * come back in the middle of the records sharing T, so all of T belongs to the gap), then the first event after T.
 * Events up to T are dropped; snapshot records (F_SNAPSHOT: the book as the gateway holds it now) and state records
 * pass untouched and never set T. Kept across the chunks of one connection.
 * `afterSnapshot`: the connection began with a gateway snapshot. The books are then rebuilt as of the moment it
 * joined, and every event after the snapshot is new and must be applied (dropping the rest of T would leave the
 * books without them): the gap still ends after T, but nothing is dropped.
 */
export class GapEnd {
  private hi = -1
  private lo = 0
  private found = false
  private done = false

  constructor(readonly afterSnapshot = false) {}

  /** True once an event after T went through: the gap ends right before it. */
  get passed(): boolean {
    return this.done
  }

  /** T, once the first event after the gap was seen. */
  get lastTs(): bigint | undefined {
    return this.found ? (BigInt(this.hi) << 32n) | BigInt(this.lo) : undefined
  }

  private keep(h: number, l: number): boolean {
    if (this.done) return true
    if (!this.found) {
      this.found = true
      this.hi = h
      this.lo = l
      this.done = this.afterSnapshot
      return this.afterSnapshot
    }
    if (h < this.hi || (h === this.hi && l <= this.lo)) return false
    this.done = true
    return true
  }

  apply(chunk: DecodedChunk): DecodedChunk {
    if (this.done) return chunk
    const mbo = chunk.mbo
    const mask = new Uint8Array(mbo.length)
    const others: Array<DbnRecord> = []
    const othersAt: Array<number> = []
    let kept = 0
    let k = 0
    for (let i = 0; i <= mbo.length; i++) {
      while (k < chunk.others.length && chunk.othersAt[k] === i) {
        const r = chunk.others[k]!
        const ts = r.hd.ts_event
        if (isState(r) || this.keep(Number(ts >> 32n), Number(ts & 0xffffffffn))) {
          others.push(r)
          othersAt.push(kept)
        }
        k++
      }
      if (i === mbo.length) break
      if ((mbo.flags[i]! & Flags.SNAPSHOT) !== 0 || this.keep(mbo.tsEventHi[i]!, mbo.tsEventLo[i]!)) {
        mask[i] = 1
        kept++
      }
    }
    if (kept === mbo.length && others.length === chunk.others.length) return chunk
    return { ...chunk, mbo: Cursor.selectRows(mbo, mask, kept), others, othersAt }
  }
}
