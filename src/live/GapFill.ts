/**
 * The historical fallback for gaps the gateway could not replay (replay refused, outage too long, records skipped
 * after slow reading). `LiveSource` asks for a gap's records the moment the gap's end is known and delivers them
 * in order, before the records after the gap, so the books carry on as if nothing was missed.
 * The service is optional: without it gaps stay pending in `LiveStatus` (and the StreamManager persists them).
 */
import { Context, Data, type Effect, type Stream } from "effect"
import type { DecodedChunk } from "../dbn/Batch.js"
import type { Cursor } from "../source/Cursor.js"

/** A gap with both bounds known. */
export interface Gap {
  /** Everything up to this cursor was delivered; the fill starts right after it. */
  readonly from: Cursor
  /** ts_event (ns) of the first record delivered after the gap: the fill's exclusive end. */
  readonly to: bigint
  readonly reason: string
}

export class GapFillError extends Data.TaggedError("GapFillError")<{
  /** TooLong: the gap is longer than `LiveSettings.fillWithin`, so nothing was asked for. */
  readonly reason: "Budget" | "Historical" | "Decode" | "Unbounded" | "TooLong"
  /** Safe text (never the key). */
  readonly detail: string
}> {
  override get message(): string {
    return `gap fill failed (${this.reason}): ${this.detail}`
  }
}

export class GapFill extends Context.Tag("ifd/live/GapFill")<GapFill, {
  /**
   * The data records of the gap, in stream order: after `from` (exactly: the records the cursor counts as seen at
   * its timestamp are dropped) and before `to`. Priced and charged to the budget by the implementation.
   */
  readonly fill: (gap: Gap) => Stream.Stream<DecodedChunk, GapFillError>
}>() {}

/**
 * Counts the DBN bytes received from the gateway socket (the data budget meters them); optional. Historical fills
 * are not socket bytes: they are charged as historical purchases.
 */
export class ByteMeter extends Context.Tag("ifd/live/ByteMeter")<ByteMeter, {
  readonly record: (bytes: number) => Effect.Effect<unknown>
}>() {}
