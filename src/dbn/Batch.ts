/**
 * Struct-of-arrays batch of MBO records: one batch per decoded input chunk, so the hot path
 * allocates per chunk, never per record. 64-bit fields are split into exact u32 halves.
 * shared/spec/databento.md §5.1.
 */
import type { Metadata } from "./Metadata.js"
import type { DbnRecord, MboMsg } from "./Records.js"


export interface MboBatch {
  /** Number of valid rows; arrays may be longer (capacity). */
  length: number
  publisherId: Uint16Array
  instrumentId: Uint32Array
  /** ts_event, ns since epoch: high and low u32 halves. */
  tsEventHi: Uint32Array
  tsEventLo: Uint32Array
  /** order_id (u64): high and low u32 halves. */
  orderIdHi: Uint32Array
  orderIdLo: Uint32Array
  /**
   * price in 1e-9 units as a double: exact for |price| < 2^53 (any real futures/options price).
   * `NaN` stands for UNDEF_PRICE. `priceHi`/`priceLo` keep the exact i64 bits.
   */
  price: Float64Array
  priceHi: Int32Array
  priceLo: Uint32Array
  size: Uint32Array
  flags: Uint8Array
  channelId: Uint8Array
  /** ASCII action byte: A C M R T F N. */
  action: Uint8Array
  /** ASCII side byte: A B N. */
  side: Uint8Array
  tsRecvHi: Uint32Array
  tsRecvLo: Uint32Array
  tsInDelta: Int32Array
  sequence: Uint32Array
  /** ts_out suffix halves; present only when the stream's metadata has ts_out = 1. */
  tsOutHi?: Uint32Array
  tsOutLo?: Uint32Array
}

const TWO_32 = 4294967296

/** Combines u32 halves into an exact BigInt (for output and tests, not the hot path). */
export const u64 = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)

/** Combines halves into a double; exact below 2^53 (callers check `hi < 0x200000` when it matters). */
export const u64ToNumber = (hi: number, lo: number): number => (hi >>> 0) * TWO_32 + (lo >>> 0)

/** Bytes per row: one f64 column, twelve 32-bit, one u16, four u8 (plus two 32-bit ts_out columns). */
const ROW_BYTES = 8 + 12 * 4 + 2 + 4
const ROW_BYTES_TS_OUT = ROW_BYTES + 2 * 4

/** Up to this many bytes a batch shares one ArrayBuffer; larger batches get a buffer per column. */
const SHARED_LIMIT = 128 * 1024

type Column = "f64" | "u32" | "i32" | "u16" | "u8"

/**
 * Allocates a zeroed batch of `capacity` rows. Small batches (the common case for live reads) are views over one
 * ArrayBuffer, widest columns first so every view is aligned: one buffer allocation instead of eighteen. Large
 * batches get one buffer per column, which measured faster there (one huge buffer per chunk costs fresh pages).
 * Both kinds have the same object shape.
 */
export const allocMboBatch = (capacity: number, tsOut = false): MboBatch => {
  const bytes = capacity * (tsOut ? ROW_BYTES_TS_OUT : ROW_BYTES)
  const shared = bytes <= SHARED_LIMIT ? new ArrayBuffer(bytes) : undefined
  // Offsets in the shared buffer, by descending width: f64, then 32-bit (ts_out included), u16, u8.
  let at32 = capacity * 8
  let at16 = capacity * (8 + (tsOut ? 14 : 12) * 4)
  let at8 = at16 + capacity * 2
  const col = (kind: Column) => {
    if (shared === undefined) {
      switch (kind) {
        case "f64":
          return new Float64Array(capacity)
        case "u32":
          return new Uint32Array(capacity)
        case "i32":
          return new Int32Array(capacity)
        case "u16":
          return new Uint16Array(capacity)
        case "u8":
          return new Uint8Array(capacity)
      }
    }
    switch (kind) {
      case "f64":
        return new Float64Array(shared, 0, capacity)
      case "u32":
      case "i32": {
        const a = kind === "u32" ? new Uint32Array(shared, at32, capacity) : new Int32Array(shared, at32, capacity)
        at32 += capacity * 4
        return a
      }
      case "u16": {
        const a = new Uint16Array(shared, at16, capacity)
        at16 += capacity * 2
        return a
      }
      case "u8": {
        const a = new Uint8Array(shared, at8, capacity)
        at8 += capacity
        return a
      }
    }
  }
  const batch: MboBatch = {
    length: 0,
    publisherId: col("u16") as Uint16Array,
    instrumentId: col("u32") as Uint32Array,
    tsEventHi: col("u32") as Uint32Array,
    tsEventLo: col("u32") as Uint32Array,
    orderIdHi: col("u32") as Uint32Array,
    orderIdLo: col("u32") as Uint32Array,
    price: col("f64") as Float64Array,
    priceHi: col("i32") as Int32Array,
    priceLo: col("u32") as Uint32Array,
    size: col("u32") as Uint32Array,
    flags: col("u8") as Uint8Array,
    channelId: col("u8") as Uint8Array,
    action: col("u8") as Uint8Array,
    side: col("u8") as Uint8Array,
    tsRecvHi: col("u32") as Uint32Array,
    tsRecvLo: col("u32") as Uint32Array,
    tsInDelta: col("i32") as Int32Array,
    sequence: col("u32") as Uint32Array
  }
  if (tsOut) {
    batch.tsOutHi = col("u32") as Uint32Array
    batch.tsOutLo = col("u32") as Uint32Array
  }
  return batch
}

/** Materialises row `i` of a batch as a plain `MboMsg` (for output and tests, not the hot path). */
export const mboAt = (batch: MboBatch, i: number): MboMsg => {
  const r = {
    _tag: "mbo" as const,
    hd: {
      length: batch.tsOutHi === undefined ? 56 : 64,
      rtype: 0xa0,
      publisher_id: batch.publisherId[i]!,
      instrument_id: batch.instrumentId[i]!,
      ts_event: u64(batch.tsEventHi[i]!, batch.tsEventLo[i]!)
    },
    order_id: u64(batch.orderIdHi[i]!, batch.orderIdLo[i]!),
    price: BigInt.asIntN(64, u64(batch.priceHi[i]!, batch.priceLo[i]!)),
    size: batch.size[i]!,
    flags: batch.flags[i]!,
    channel_id: batch.channelId[i]!,
    action: batch.action[i] === 0 ? "" : String.fromCharCode(batch.action[i]!),
    side: batch.side[i] === 0 ? "" : String.fromCharCode(batch.side[i]!),
    ts_recv: u64(batch.tsRecvHi[i]!, batch.tsRecvLo[i]!),
    ts_in_delta: batch.tsInDelta[i]!,
    sequence: batch.sequence[i]!
  }
  return batch.tsOutHi === undefined ? r : { ...r, ts_out: u64(batch.tsOutHi[i]!, batch.tsOutLo![i]!) }
}

/** Why the decoder stopped or skipped bytes. The Effect driver turns these into a tagged `DbnError`. */
export type DbnErrorReason =
  | "BadMagic"
  | "UnsupportedVersion"
  | "MetadataTooLarge"
  | "MetadataInvalid"
  | "RecordLength"
  | "Truncated"
  | "Malformed"
  | "Zstd"

/** A decoding problem: plain data, never thrown. `offset` is the absolute byte offset in the (decompressed) stream. */
export interface DbnProblem {
  readonly reason: DbnErrorReason
  readonly offset: number
  readonly detail: string
}

/** What the decoder yields for one input chunk. Record order is kept: see `othersAt`. */
export interface DecodedChunk {
  /** Set on the chunk in which the metadata header completed, else undefined. */
  readonly metadata: Metadata | undefined
  readonly mbo: MboBatch
  /** Every non-MBO record decoded from this chunk, in stream order. */
  readonly others: ReadonlyArray<DbnRecord>
  /** For `others[k]`: how many rows of `mbo` precede it in the stream. */
  readonly othersAt: ReadonlyArray<number>
  /** A framing error after which the decoder can not go on; records before it are still in this chunk. */
  readonly fatal: DbnProblem | undefined
  /** Records skipped in this chunk because their rtype is unknown (skipped by their length). */
  readonly skippedUnknown: number
  /** Records skipped in this chunk because they were too short for their rtype. */
  readonly skippedMalformed: number
  /** The first few non-fatal problems of this chunk (bounded). */
  readonly problems: ReadonlyArray<DbnProblem>
  /**
   * Set by sources that recycle batches (`Decode.decode({ recycle: true })`): hands `mbo`'s storage back to the
   * decoder for a later chunk. The last consumer calls it once it holds no reference to the batch; calling it again
   * does nothing. Chunks without it are simply left to the garbage collector.
   */
  readonly release?: (() => void) | undefined
}

/** A chunk of these rows and other records (`othersAt[k]`: rows before `others[k]`), with nothing skipped or wrong. */
export const chunkOfRows = (
  mbo: MboBatch,
  others: ReadonlyArray<DbnRecord> = [],
  othersAt: ReadonlyArray<number> = []
): DecodedChunk => ({
  metadata: undefined,
  mbo,
  others,
  othersAt,
  fatal: undefined,
  skippedUnknown: 0,
  skippedMalformed: 0,
  problems: []
})
