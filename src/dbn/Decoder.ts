/**
 * Sans-I/O DBN decoder: bytes in, split anywhere; per drain one `DecodedChunk` with the metadata, MBO rows in a
 * struct-of-arrays batch and every other record as a plain v3-shaped object. Versions 1–3, ts_out, fragments.
 * Bad input becomes typed `DbnProblem`s, never exceptions. shared/spec/databento.md §2–6.
 */
import { allocMboBatch, type DbnErrorReason, type DbnProblem, type DecodedChunk, type MboBatch } from "./Batch.js"
import { RType, SystemCode, ErrorCode, UNDEF_STAT_QUANTITY_V2, UNDEF_STAT_QUANTITY_V3 } from "./Constants.js"
import * as Layout from "./Layout.js"
import type { MappingInterval, Metadata, SymbolMapping } from "./Metadata.js"
import type {
  BidAskPair,
  DbnRecord,
  ErrorMsg,
  InstrumentDefMsg,
  Mbp10Msg,
  Mbp1Msg,
  OhlcvMsg,
  RecordHeader,
  StatMsg,
  StatusMsg,
  SymbolMappingMsg,
  SystemMsg,
  TradeMsg
} from "./Records.js"

export interface DecoderOptions {
  /** Record-only input (no metadata): the DBN version and ts_out flag known out of band. */
  readonly fragment?: { readonly version: 1 | 2 | 3; readonly tsOut?: boolean }
  /** Largest metadata accepted, bytes (default 64 MiB). Larger declared lengths are fatal before any allocation. */
  readonly maxMetadataLength?: number
}

/** Running counts since the decoder was created. */
export interface DecoderTotals {
  /** Bytes consumed (complete prelude, metadata and records). */
  readonly bytes: number
  /** MBO records decoded into batches. */
  readonly mbo: number
  /** Other records decoded into objects. */
  readonly others: number
  readonly skippedUnknown: number
  readonly skippedMalformed: number
}

const PRELUDE = 0
const METADATA = 1
const RECORDS = 2

const PRELUDE_SIZE = 8
/** Bytes after the prelude before the variable metadata part: fixed fields + schema_definition_length. */
const METADATA_MIN = 100
const DEFAULT_MAX_METADATA = 64 * 1024 * 1024
/** Only the first few non-fatal problems of a chunk are kept (the counts say how many there were). */
const MAX_PROBLEMS = 8
const TAIL_MIN = Layout.MAX_RECORD_SIZE + 4

const TWO_32 = 4294967296

const EMPTY_BATCH: MboBatch = allocMboBatch(0)
const EMPTY_BATCH_TS_OUT: MboBatch = allocMboBatch(0, true)
const NO_RECORDS: ReadonlyArray<DbnRecord> = []
const NO_NUMBERS: ReadonlyArray<number> = []
const NO_PROBLEMS: ReadonlyArray<DbnProblem> = []

export class DbnDecoder {
  private phase: number
  private version = 0
  private tsOut = false
  private metaLength = 0
  private readonly maxMetadataLength: number
  /** Absolute offset of the first byte not yet consumed (the start of `tail` when it holds bytes). */
  private pos = 0
  /** Own copy of an unfinished item (prelude, metadata or record) carried between pushes. */
  private tail = new Uint8Array(TAIL_MIN)
  private tailLen = 0
  private queue: Array<Uint8Array> = []
  private queued = 0
  /** Bytes of this drain not yet handed to `region` (sizes the batch). */
  private later = 0
  private dead: DbnProblem | undefined = undefined
  private md: Metadata | undefined = undefined
  /** A batch handed back by `recycle`, refilled instead of allocating when it is big enough. */
  private spare: MboBatch | undefined = undefined
  /** Whether batches come back (`recycle` was called): fresh ones then get some slack, so one keeps fitting. */
  private recycling = false

  // Per drain.
  private batch: MboBatch = EMPTY_BATCH
  private cap = 0
  private others: Array<DbnRecord> = []
  private othersAt: Array<number> = []
  private problems: Array<DbnProblem> = []
  private chunkMetadata: Metadata | undefined = undefined
  private unknown = 0
  private malformed = 0

  // Totals.
  private totalMbo = 0
  private totalOthers = 0
  private totalUnknown = 0
  private totalMalformed = 0

  constructor(options: DecoderOptions = {}) {
    this.maxMetadataLength = options.maxMetadataLength ?? DEFAULT_MAX_METADATA
    if (options.fragment !== undefined) {
      this.phase = RECORDS
      this.version = options.fragment.version
      this.tsOut = options.fragment.tsOut ?? false
    } else {
      this.phase = PRELUDE
    }
  }

  /** The stream's metadata once its header has been decoded (undefined for fragments). */
  get metadata(): Metadata | undefined {
    return this.md
  }

  /** Absolute bytes consumed so far (an unfinished item carried to the next push is not counted). */
  get offset(): number {
    return this.pos
  }

  get totals(): DecoderTotals {
    return {
      bytes: this.pos,
      mbo: this.totalMbo,
      others: this.totalOthers,
      skippedUnknown: this.totalUnknown,
      skippedMalformed: this.totalMalformed
    }
  }

  /** Queues bytes for the next `drain()`. The array must stay unchanged until then (it is read in place). */
  push(bytes: Uint8Array): void {
    if (this.dead !== undefined || bytes.length === 0) return
    this.queue.push(bytes)
    this.queued += bytes.length
  }

  /**
   * Decodes everything pushed since the last drain. MBO rows land in one batch allocated for this call (a shared
   * zero-capacity batch when there are none), so callers may keep it.
   */
  drain(): DecodedChunk {
    this.batch = this.tsOut ? EMPTY_BATCH_TS_OUT : EMPTY_BATCH
    this.cap = 0
    this.others = []
    this.othersAt = []
    this.problems = []
    this.chunkMetadata = undefined
    this.unknown = 0
    this.malformed = 0
    const queue = this.queue
    let after = this.queued
    this.queue = []
    this.queued = 0
    for (let i = 0; i < queue.length && this.dead === undefined; i++) {
      const chunk = queue[i]!
      after -= chunk.length
      this.feed(chunk, after)
    }
    const mbo = this.batch
    this.batch = EMPTY_BATCH
    this.totalMbo += mbo.length
    this.totalOthers += this.others.length
    this.totalUnknown += this.unknown
    this.totalMalformed += this.malformed
    const out: DecodedChunk = {
      metadata: this.chunkMetadata,
      mbo,
      others: this.others.length === 0 ? NO_RECORDS : this.others,
      othersAt: this.othersAt.length === 0 ? NO_NUMBERS : this.othersAt,
      fatal: this.dead,
      skippedUnknown: this.unknown,
      skippedMalformed: this.malformed,
      problems: this.problems.length === 0 ? NO_PROBLEMS : this.problems
    }
    return out
  }

  /**
   * Optional: hands back a batch from an earlier drain that the caller has finished with, so a later drain can
   * refill it instead of allocating (rows past `length` then hold stale values). Never recycle a batch that is
   * still referenced downstream.
   */
  recycle(batch: MboBatch): void {
    if (batch === EMPTY_BATCH || batch === EMPTY_BATCH_TS_OUT) return
    this.recycling = true
    if (this.spare === undefined || batch.sequence.length > this.spare.sequence.length) this.spare = batch
  }

  /**
   * End of input (call after the last `drain()`): the fatal problem if there was one, `Truncated` if a partial
   * prelude, metadata or record remains (or a stream ended before its metadata), else undefined.
   */
  finish(): DbnProblem | undefined {
    if (this.dead !== undefined) return this.dead
    if (this.queued > 0) {
      return problem("Truncated", this.pos, `${this.queued} bytes pushed after the last drain() were not decoded`)
    }
    if (this.phase === PRELUDE) {
      if (this.tailLen > 0) {
        return problem("Truncated", this.pos, `stream ends inside the prelude (${this.tailLen} of 8 bytes)`)
      }
      return problem("Truncated", this.pos, "empty stream: no DBN metadata")
    }
    if (this.phase === METADATA) {
      const detail = `stream ends inside the metadata (${this.tailLen} of ${this.metaLength} bytes)`
      return problem("Truncated", this.pos, detail)
    }
    if (this.tailLen > 0) {
      const need = this.tailLen >= 1 ? this.tail[0]! * 4 : 0
      return problem("Truncated", this.pos, `stream ends inside a record (${this.tailLen} of ${need} bytes)`)
    }
    return undefined
  }

  private feed(chunk: Uint8Array, after: number): void {
    const end = chunk.length
    let off = 0
    if (this.tailLen > 0) {
      off = this.fillTail(chunk, after)
      if (this.tailLen > 0 || this.dead !== undefined) return
    }
    if (off < end) {
      this.later = after
      const p = this.region(chunk, off, end)
      if (this.dead === undefined && p < end) this.append(chunk, p, end - p, end - p)
    }
  }

  /** Completes the carried item from the front of `chunk`; returns how many bytes of `chunk` it took. */
  private fillTail(chunk: Uint8Array, after: number): number {
    const end = chunk.length
    let off = 0
    for (;;) {
      const need = this.tailNeed()
      if (need > this.tailLen) {
        const take = Math.min(need - this.tailLen, end - off)
        this.append(chunk, off, take, need)
        off += take
        if (this.phase === PRELUDE) {
          const bad = preludeProblem(this.tail, 0, this.tailLen)
          if (bad !== undefined) {
            this.fail(bad.reason, bad.offset, bad.detail)
            return off
          }
        }
        if (this.tailLen < need) return off
        if (this.tailNeed() > this.tailLen) continue
      }
      this.later = end - off + after
      this.region(this.tail, 0, this.tailLen)
      this.tailLen = 0
      if (this.tail.length > TAIL_MIN) this.tail = new Uint8Array(TAIL_MIN)
      return off
    }
  }

  /** Total size of the carried item as far as its bytes so far tell. */
  private tailNeed(): number {
    if (this.phase === PRELUDE) return PRELUDE_SIZE
    if (this.phase === METADATA) return this.metaLength
    if (this.tailLen === 0) return 1
    const lenByte = this.tail[0]!
    // A length below the header size is reported by `records` as soon as it sees the byte.
    return lenByte < 4 ? this.tailLen : lenByte * 4
  }

  /** Appends to the tail, growing it geometrically but never beyond `need` (so only received bytes are paid for). */
  private append(src: Uint8Array, from: number, count: number, need: number): void {
    const len = this.tailLen + count
    if (len > this.tail.length) {
      const grown = new Uint8Array(Math.max(len, Math.min(need, this.tail.length * 2)))
      grown.set(this.tail.subarray(0, this.tailLen))
      this.tail = grown
    }
    this.tail.set(src.subarray(from, from + count), this.tailLen)
    this.tailLen = len
  }

  /** Consumes every complete item of `buf[start, end)`; returns where it stopped. */
  private region(buf: Uint8Array, start: number, end: number): number {
    const base = this.pos - start
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    let p = start
    if (this.phase === PRELUDE) {
      const bad = preludeProblem(buf, p, end - p)
      if (bad !== undefined) {
        this.fail(bad.reason, bad.offset, bad.detail)
        return p
      }
      if (end - p < PRELUDE_SIZE) return p
      const length = view.getUint32(p + 4, true)
      if (length < METADATA_MIN) {
        this.fail("MetadataInvalid", 4, `metadata length ${length} < ${METADATA_MIN}`)
        return p
      }
      if (length > this.maxMetadataLength) {
        this.fail("MetadataTooLarge", 4, `metadata length ${length} > limit ${this.maxMetadataLength}`)
        return p
      }
      this.version = buf[p + 3]!
      this.metaLength = length
      this.phase = METADATA
      p += PRELUDE_SIZE
      this.pos = base + p
    }
    if (this.phase === METADATA) {
      if (end - p < this.metaLength) return p
      const parsed = parseMetadata(buf, view, p, this.metaLength, this.version)
      if (parsed._tag === "error") {
        this.fail("MetadataInvalid", parsed.offset, parsed.detail)
        return p
      }
      this.md = parsed.metadata
      this.chunkMetadata = parsed.metadata
      this.tsOut = parsed.metadata.ts_out
      if (this.tsOut && this.batch.length === 0) this.batch = EMPTY_BATCH_TS_OUT
      this.phase = RECORDS
      p += this.metaLength
      this.pos = base + p
    }
    p = this.records(buf, view, p, end, base)
    this.pos = base + p
    return p
  }

  /** The hot loop: MBO rows straight into the batch, anything else out of line. */
  private records(u8: Uint8Array, dv: DataView, start: number, end: number, base: number): number {
    const { orderId, price, size_, flags, channelId, action, side, tsRecv, tsInDelta, sequence } = Layout.Mbo
    const tsOut = this.tsOut
    const mboNeed = tsOut ? Layout.Mbo.size + Layout.TS_OUT_SIZE : Layout.Mbo.size
    let b = this.batch
    let n = b.length
    let cap = this.cap
    let publisherIdA = b.publisherId
    let instrumentIdA = b.instrumentId
    let tsEventHiA = b.tsEventHi
    let tsEventLoA = b.tsEventLo
    let orderIdHiA = b.orderIdHi
    let orderIdLoA = b.orderIdLo
    let priceA = b.price
    let priceHiA = b.priceHi
    let priceLoA = b.priceLo
    let sizeA = b.size
    let flagsA = b.flags
    let channelIdA = b.channelId
    let actionA = b.action
    let sideA = b.side
    let tsRecvHiA = b.tsRecvHi
    let tsRecvLoA = b.tsRecvLo
    let tsInDeltaA = b.tsInDelta
    let sequenceA = b.sequence
    let p = start
    while (p < end) {
      const lenByte = u8[p]!
      if (lenByte < 4) {
        this.fail("RecordLength", base + p, `record length ${lenByte * 4} bytes is shorter than the 16-byte header`)
        break
      }
      const len = lenByte << 2
      if (len > end - p) break
      const rtype = u8[p + 1]!
      if (rtype === RType.MBO && len >= mboNeed) {
        if (n === cap) {
          b.length = n
          b = this.grow(n, end - p)
          cap = this.cap
          publisherIdA = b.publisherId
          instrumentIdA = b.instrumentId
          tsEventHiA = b.tsEventHi
          tsEventLoA = b.tsEventLo
          orderIdHiA = b.orderIdHi
          orderIdLoA = b.orderIdLo
          priceA = b.price
          priceHiA = b.priceHi
          priceLoA = b.priceLo
          sizeA = b.size
          flagsA = b.flags
          channelIdA = b.channelId
          actionA = b.action
          sideA = b.side
          tsRecvHiA = b.tsRecvHi
          tsRecvLoA = b.tsRecvLo
          tsInDeltaA = b.tsInDelta
          sequenceA = b.sequence
        }
        publisherIdA[n] = dv.getUint16(p + 2, true)
        instrumentIdA[n] = dv.getUint32(p + 4, true)
        tsEventLoA[n] = dv.getUint32(p + 8, true)
        tsEventHiA[n] = dv.getUint32(p + 12, true)
        orderIdLoA[n] = dv.getUint32(p + orderId, true)
        orderIdHiA[n] = dv.getUint32(p + orderId + 4, true)
        const plo = dv.getUint32(p + price, true)
        const phi = dv.getInt32(p + price + 4, true)
        priceLoA[n] = plo
        priceHiA[n] = phi
        priceA[n] = phi === 0x7fffffff && plo === 0xffffffff ? NaN : phi * TWO_32 + plo
        sizeA[n] = dv.getUint32(p + size_, true)
        flagsA[n] = u8[p + flags]!
        channelIdA[n] = u8[p + channelId]!
        actionA[n] = u8[p + action]!
        sideA[n] = u8[p + side]!
        tsRecvLoA[n] = dv.getUint32(p + tsRecv, true)
        tsRecvHiA[n] = dv.getUint32(p + tsRecv + 4, true)
        tsInDeltaA[n] = dv.getInt32(p + tsInDelta, true)
        sequenceA[n] = dv.getUint32(p + sequence, true)
        if (tsOut) {
          b.tsOutLo![n] = dv.getUint32(p + Layout.Mbo.size, true)
          b.tsOutHi![n] = dv.getUint32(p + Layout.Mbo.size + 4, true)
        }
        n++
      } else {
        this.other(u8, dv, p, len, rtype, base, n)
      }
      p += len
    }
    b.length = n
    return p
  }

  /** Allocates this drain's batch, sized for every MBO record the remaining bytes could hold. */
  private grow(rows: number, bytesHere: number): MboBatch {
    const old = this.batch
    const room = Math.floor((bytesHere + this.later) / Layout.Mbo.size)
    let cap = Math.max(rows + room, this.cap * 2, 1)
    const spare = this.spare
    let b: MboBatch
    if (spare !== undefined && spare.sequence.length >= cap && (spare.tsOutHi !== undefined) === this.tsOut) {
      this.spare = undefined
      b = spare
      cap = spare.sequence.length
    } else {
      // A chunk's batch is sized by its bytes plus the record carried from the last one: without slack, a recycled
      // batch is often one row short for the next chunk of the same read size.
      if (this.recycling && cap > 1024) cap += cap >> 4
      b = allocMboBatch(cap, this.tsOut)
    }
    if (rows > 0) copyRows(old, b, rows)
    b.length = rows
    this.batch = b
    this.cap = cap
    return b
  }

  private other(u8: Uint8Array, dv: DataView, p: number, len: number, rtype: number, base: number, rows: number): void {
    const version = this.version
    let need = Layout.recordSize(rtype, version)
    if (need === 0) {
      this.unknown++
      return
    }
    const tsExtra = this.tsOut ? Layout.TS_OUT_SIZE : 0
    let wide = version >= 2
    if ((rtype === RType.SYSTEM || rtype === RType.ERROR) && !wide && len >= Layout.SystemV2.size + tsExtra) {
      // A v1 stream may still carry 320-byte v2 system/error records (the C++ client switches on size too).
      wide = true
      need = Layout.SystemV2.size
    }
    if (len < need + tsExtra) {
      this.malformed++
      if (this.problems.length < MAX_PROBLEMS) {
        this.problems.push(problem(
          "Malformed",
          base + p,
          `rtype 0x${rtype.toString(16)} record of ${len} bytes, v${version} needs ${need + tsExtra}`
        ))
      }
      return
    }
    const r = decodeOther(u8, dv, p, len, rtype, version, wide)
    if (this.tsOut) (r as { ts_out?: bigint }).ts_out = dv.getBigUint64(p + need, true)
    this.others.push(r)
    this.othersAt.push(rows)
  }

  private fail(reason: DbnErrorReason, offset: number, detail: string): void {
    if (this.dead === undefined) this.dead = problem(reason, offset, detail)
  }
}

const problem = (reason: DbnErrorReason, offset: number, detail: string): DbnProblem => ({ reason, offset, detail })

const MAGIC = [0x44, 0x42, 0x4e] // "DBN"

/** Checks as much of the prelude as is available; stream offsets are absolute (the prelude starts at 0). */
const preludeProblem = (buf: Uint8Array, p: number, avail: number): DbnProblem | undefined => {
  const n = Math.min(avail, 3)
  for (let i = 0; i < n; i++) {
    if (buf[p + i] !== MAGIC[i]) {
      const zstd = avail >= 4 && buf[p] === 0x28 && buf[p + 1] === 0xb5 && buf[p + 2] === 0x2f && buf[p + 3] === 0xfd
      const detail = zstd ? "zstd-compressed input: decompress it first" : "stream does not start with \"DBN\""
      return problem("BadMagic", i, detail)
    }
  }
  if (avail >= 4) {
    const v = buf[p + 3]!
    if (v < 1 || v > 3) return problem("UnsupportedVersion", 3, `DBN version ${v} (supported: 1, 2, 3)`)
  }
  return undefined
}

const copyRows = (from: MboBatch, to: MboBatch, rows: number): void => {
  to.publisherId.set(from.publisherId.subarray(0, rows))
  to.instrumentId.set(from.instrumentId.subarray(0, rows))
  to.tsEventHi.set(from.tsEventHi.subarray(0, rows))
  to.tsEventLo.set(from.tsEventLo.subarray(0, rows))
  to.orderIdHi.set(from.orderIdHi.subarray(0, rows))
  to.orderIdLo.set(from.orderIdLo.subarray(0, rows))
  to.price.set(from.price.subarray(0, rows))
  to.priceHi.set(from.priceHi.subarray(0, rows))
  to.priceLo.set(from.priceLo.subarray(0, rows))
  to.size.set(from.size.subarray(0, rows))
  to.flags.set(from.flags.subarray(0, rows))
  to.channelId.set(from.channelId.subarray(0, rows))
  to.action.set(from.action.subarray(0, rows))
  to.side.set(from.side.subarray(0, rows))
  to.tsRecvHi.set(from.tsRecvHi.subarray(0, rows))
  to.tsRecvLo.set(from.tsRecvLo.subarray(0, rows))
  to.tsInDelta.set(from.tsInDelta.subarray(0, rows))
  to.sequence.set(from.sequence.subarray(0, rows))
  if (from.tsOutHi !== undefined && to.tsOutHi !== undefined) {
    to.tsOutHi.set(from.tsOutHi.subarray(0, rows))
    to.tsOutLo!.set(from.tsOutLo!.subarray(0, rows))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Field readers (not on the MBO path: these allocate strings and bigints).

/** NUL-terminated fixed-width ASCII (bytes above 0x7F kept as Latin-1 so encode/decode round-trips). */
export const readCStr = (u8: Uint8Array, start: number, width: number): string => {
  const stop = start + width
  let e = start
  while (e < stop && u8[e] !== 0) e++
  if (e === start) return ""
  let s = ""
  for (let i = start; i < e; i++) s += String.fromCharCode(u8[i]!)
  return s
}

const readChar = (u8: Uint8Array, at: number): string => (u8[at] === 0 ? "" : String.fromCharCode(u8[at]!))

const readHeader = (u8: Uint8Array, dv: DataView, p: number, len: number): RecordHeader => ({
  length: len,
  rtype: u8[p + 1]!,
  publisher_id: dv.getUint16(p + 2, true),
  instrument_id: dv.getUint32(p + 4, true),
  ts_event: dv.getBigUint64(p + 8, true)
})

const readBidAsk = (dv: DataView, at: number): BidAskPair => ({
  bid_px: dv.getBigInt64(at + Layout.BidAsk.bidPx, true),
  ask_px: dv.getBigInt64(at + Layout.BidAsk.askPx, true),
  bid_sz: dv.getUint32(at + Layout.BidAsk.bidSz, true),
  ask_sz: dv.getUint32(at + Layout.BidAsk.askSz, true),
  bid_ct: dv.getUint32(at + Layout.BidAsk.bidCt, true),
  ask_ct: dv.getUint32(at + Layout.BidAsk.askCt, true)
})

const readTradeFields = (u8: Uint8Array, dv: DataView, p: number) => {
  const T = Layout.Trade
  return {
    price: dv.getBigInt64(p + T.price, true),
    size: dv.getUint32(p + T.size_, true),
    action: readChar(u8, p + T.action),
    side: readChar(u8, p + T.side),
    flags: u8[p + T.flags]!,
    depth: u8[p + T.depth]!,
    ts_recv: dv.getBigUint64(p + T.tsRecv, true),
    ts_in_delta: dv.getInt32(p + T.tsInDelta, true),
    sequence: dv.getUint32(p + T.sequence, true)
  }
}

/** Databento's v1 → v2 upgrade assigns system codes from the message text. */
const systemCodeOf = (msg: string): number => {
  if (msg === "Heartbeat") return SystemCode.HEARTBEAT
  if (msg.startsWith("End of interval for ")) return SystemCode.END_OF_INTERVAL
  if (msg.startsWith("Subscription request ") && msg.endsWith(" succeeded")) return SystemCode.SUBSCRIPTION_ACK
  if (msg.startsWith("Warning: slow reading")) return SystemCode.SLOW_READER_WARNING
  if (msg.startsWith("Finished ") && msg.endsWith(" replay")) return SystemCode.REPLAY_COMPLETED
  return SystemCode.UNSET
}

const errorCodeOf = (err: string): number => {
  if (err === "User or API key deactivated") return ErrorCode.API_KEY_DEACTIVATED
  if (err === "User has reached their open connection limit") return ErrorCode.CONNECTION_LIMIT_EXCEEDED
  if (err.startsWith("Failed to resolve symbol")) return ErrorCode.SYMBOL_RESOLUTION_FAILED
  if (err === "Internal error") return ErrorCode.INTERNAL_ERROR
  if (err.startsWith("Slow client detected for ")) return ErrorCode.SKIPPED_RECORDS_AFTER_SLOW_READING
  return ErrorCode.UNSET
}

/** v3 values of definition fields that older versions lack (Databento's v3 defaults). */
const DEFINITION_DEFAULTS: Readonly<Record<string, bigint | number | string>> = {
  leg_price: 9223372036854775807n,
  leg_delta: 9223372036854775807n,
  leg_instrument_id: 0,
  leg_ratio_price_numerator: 0,
  leg_ratio_price_denominator: 0,
  leg_ratio_qty_numerator: 0,
  leg_ratio_qty_denominator: 0,
  leg_underlying_id: 0,
  leg_count: 0,
  leg_index: 0,
  leg_raw_symbol: "",
  leg_instrument_class: "",
  leg_side: "N"
}

const readDefinition = (u8: Uint8Array, dv: DataView, p: number, len: number, version: number): InstrumentDefMsg => {
  const r: Record<string, unknown> = { _tag: "definition", hd: readHeader(u8, dv, p, len) }
  const layout = Layout.definitionLayoutOf(version)
  if (version < 3) Object.assign(r, DEFINITION_DEFAULTS)
  for (const f of layout.fields) {
    const at = p + f.offset
    switch (f.type) {
      case "u8":
        r[f.name] = u8[at]
        break
      case "i8":
        r[f.name] = dv.getInt8(at)
        break
      case "u16":
        r[f.name] = dv.getUint16(at, true)
        break
      case "i16":
        r[f.name] = dv.getInt16(at, true)
        break
      case "u32":
        // raw_instrument_id is u32 before v3 and u64 in the v3 shape.
        r[f.name] = f.name === "raw_instrument_id" ? BigInt(dv.getUint32(at, true)) : dv.getUint32(at, true)
        break
      case "i32":
        r[f.name] = dv.getInt32(at, true)
        break
      case "u64":
        r[f.name] = dv.getBigUint64(at, true)
        break
      case "i64":
        r[f.name] = dv.getBigInt64(at, true)
        break
      case "char":
        r[f.name] = readChar(u8, at)
        break
      case "str":
        r[f.name] = readCStr(u8, at, f.width)
        break
    }
  }
  return r as unknown as InstrumentDefMsg
}

const decodeOther = (
  u8: Uint8Array,
  dv: DataView,
  p: number,
  len: number,
  rtype: number,
  version: number,
  wide: boolean
): DbnRecord => {
  switch (rtype) {
    case RType.MBP_0: {
      const r: TradeMsg = { _tag: "trade", hd: readHeader(u8, dv, p, len), ...readTradeFields(u8, dv, p) }
      return r
    }
    case RType.MBP_1: {
      const r: Mbp1Msg = {
        _tag: "mbp1",
        hd: readHeader(u8, dv, p, len),
        ...readTradeFields(u8, dv, p),
        levels: [readBidAsk(dv, p + Layout.Trade.levels)]
      }
      return r
    }
    case RType.MBP_10: {
      const levels: Array<BidAskPair> = []
      for (let i = 0; i < 10; i++) levels.push(readBidAsk(dv, p + Layout.Trade.levels + i * Layout.BidAsk.size))
      const r: Mbp10Msg = { _tag: "mbp10", hd: readHeader(u8, dv, p, len), ...readTradeFields(u8, dv, p), levels }
      return r
    }
    case RType.STATUS: {
      const S = Layout.Status
      const r: StatusMsg = {
        _tag: "status",
        hd: readHeader(u8, dv, p, len),
        ts_recv: dv.getBigUint64(p + S.tsRecv, true),
        action: dv.getUint16(p + S.action, true),
        reason: dv.getUint16(p + S.reason, true),
        trading_event: dv.getUint16(p + S.tradingEvent, true),
        is_trading: readChar(u8, p + S.isTrading),
        is_quoting: readChar(u8, p + S.isQuoting),
        is_short_sell_restricted: readChar(u8, p + S.isShortSellRestricted)
      }
      return r
    }
    case RType.STATISTICS: {
      const S = version >= 3 ? Layout.StatV3 : Layout.StatV1
      let quantity: bigint
      if (version >= 3) {
        quantity = dv.getBigInt64(p + S.quantity, true)
      } else {
        const q = dv.getInt32(p + S.quantity, true)
        quantity = q === UNDEF_STAT_QUANTITY_V2 ? UNDEF_STAT_QUANTITY_V3 : BigInt(q)
      }
      const r: StatMsg = {
        _tag: "stat",
        hd: readHeader(u8, dv, p, len),
        ts_recv: dv.getBigUint64(p + S.tsRecv, true),
        ts_ref: dv.getBigUint64(p + S.tsRef, true),
        price: dv.getBigInt64(p + S.price, true),
        quantity,
        sequence: dv.getUint32(p + S.sequence, true),
        ts_in_delta: dv.getInt32(p + S.tsInDelta, true),
        stat_type: dv.getUint16(p + S.statType, true),
        channel_id: dv.getUint16(p + S.channelId, true),
        update_action: u8[p + S.updateAction]!,
        stat_flags: u8[p + S.statFlags]!
      }
      return r
    }
    case RType.SYMBOL_MAPPING: {
      if (version >= 2) {
        const S = Layout.SymbolMappingV2
        const r: SymbolMappingMsg = {
          _tag: "symbolMapping",
          hd: readHeader(u8, dv, p, len),
          stype_in: u8[p + S.stypeIn]!,
          stype_in_symbol: readCStr(u8, p + S.stypeInSymbol, S.symbolLen),
          stype_out: u8[p + S.stypeOut]!,
          stype_out_symbol: readCStr(u8, p + S.stypeOutSymbol, S.symbolLen),
          start_ts: dv.getBigUint64(p + S.startTs, true),
          end_ts: dv.getBigUint64(p + S.endTs, true)
        }
        return r
      }
      const S = Layout.SymbolMappingV1
      const r: SymbolMappingMsg = {
        _tag: "symbolMapping",
        hd: readHeader(u8, dv, p, len),
        stype_in: 255,
        stype_in_symbol: readCStr(u8, p + S.stypeInSymbol, S.symbolLen),
        stype_out: 255,
        stype_out_symbol: readCStr(u8, p + S.stypeOutSymbol, S.symbolLen),
        start_ts: dv.getBigUint64(p + S.startTs, true),
        end_ts: dv.getBigUint64(p + S.endTs, true)
      }
      return r
    }
    case RType.SYSTEM: {
      if (wide) {
        const S = Layout.SystemV2
        const msg = readCStr(u8, p + S.msg, S.msgLen)
        const code = u8[p + S.code]!
        const r: SystemMsg = {
          _tag: "system",
          hd: readHeader(u8, dv, p, len),
          msg,
          code,
          isHeartbeat: code === SystemCode.HEARTBEAT
        }
        return r
      }
      const msg = readCStr(u8, p + Layout.SystemV1.msg, Layout.SystemV1.msgLen)
      const code = systemCodeOf(msg)
      const r: SystemMsg = {
        _tag: "system",
        hd: readHeader(u8, dv, p, len),
        msg,
        code,
        isHeartbeat: code === SystemCode.HEARTBEAT
      }
      return r
    }
    case RType.ERROR: {
      if (wide) {
        const E = Layout.ErrorV2
        const r: ErrorMsg = {
          _tag: "error",
          hd: readHeader(u8, dv, p, len),
          err: readCStr(u8, p + E.err, E.errLen),
          code: u8[p + E.code]!,
          is_last: u8[p + E.isLast]!
        }
        return r
      }
      const err = readCStr(u8, p + Layout.ErrorV1.err, Layout.ErrorV1.errLen)
      const r: ErrorMsg = { _tag: "error", hd: readHeader(u8, dv, p, len), err, code: errorCodeOf(err), is_last: 255 }
      return r
    }
    case RType.INSTRUMENT_DEF:
      return readDefinition(u8, dv, p, len, version)
    default: {
      // OHLCV rtypes (recordSize admits nothing else here).
      const O = Layout.Ohlcv
      const r: OhlcvMsg = {
        _tag: "ohlcv",
        hd: readHeader(u8, dv, p, len),
        open: dv.getBigInt64(p + O.open, true),
        high: dv.getBigInt64(p + O.high, true),
        low: dv.getBigInt64(p + O.low, true),
        close: dv.getBigInt64(p + O.close, true),
        volume: dv.getBigUint64(p + O.volume, true)
      }
      return r
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata (§2.2, §2.3). Every read is bounds-checked against the declared length.

type MetadataResult =
  | { readonly _tag: "ok"; readonly metadata: Metadata }
  | { readonly _tag: "error"; readonly offset: number; readonly detail: string }

const metaError = (offset: number, detail: string): MetadataResult => ({ _tag: "error", offset, detail })

/** `p` indexes absolute stream offset 8 (the first metadata byte) in `u8`. */
const parseMetadata = (u8: Uint8Array, dv: DataView, p: number, length: number, version: number): MetadataResult => {
  const at = (abs: number) => p + abs - PRELUDE_SIZE
  const stop = p + length
  if (length < 104) return metaError(PRELUDE_SIZE + length, "metadata too short for schema_definition_length")
  const dataset = readCStr(u8, at(8), 16)
  const schema = dv.getUint16(at(24), true)
  const start = dv.getBigUint64(at(26), true)
  const end = dv.getBigUint64(at(34), true)
  const limit = dv.getBigUint64(at(42), true)
  let stypeIn: number
  let stypeOut: number
  let tsOut: number
  let cstrLen: number
  if (version === 1) {
    stypeIn = u8[at(58)]!
    stypeOut = u8[at(59)]!
    tsOut = u8[at(60)]!
    cstrLen = 22
  } else {
    stypeIn = u8[at(50)]!
    stypeOut = u8[at(51)]!
    tsOut = u8[at(52)]!
    cstrLen = dv.getUint16(at(53), true)
    if (cstrLen === 0) return metaError(53, "symbol_cstr_len is 0")
  }
  const schemaDefinitionLength = dv.getUint32(at(108), true)
  if (schemaDefinitionLength !== 0) {
    return metaError(108, `schema_definition_length ${schemaDefinitionLength} (only 0 is supported)`)
  }
  let q = at(112)
  const abs = (i: number) => i - p + PRELUDE_SIZE

  const readSymbols = (what: string): Array<string> | string => {
    if (q + 4 > stop) return `metadata ends before the ${what} count`
    const count = dv.getUint32(q, true)
    q += 4
    if (count > (stop - q) / cstrLen) return `${what} count ${count} exceeds the metadata length`
    const out: Array<string> = []
    for (let i = 0; i < count; i++) {
      out.push(readCStr(u8, q, cstrLen))
      q += cstrLen
    }
    return out
  }
  const symbols = readSymbols("symbols")
  if (typeof symbols === "string") return metaError(abs(q), symbols)
  const partial = readSymbols("partial")
  if (typeof partial === "string") return metaError(abs(q), partial)
  const notFound = readSymbols("not_found")
  if (typeof notFound === "string") return metaError(abs(q), notFound)

  if (q + 4 > stop) return metaError(abs(q), "metadata ends before the mappings count")
  const mappingCount = dv.getUint32(q, true)
  q += 4
  if (mappingCount > (stop - q) / (cstrLen + 4)) {
    return metaError(abs(q - 4), `mappings count ${mappingCount} exceeds the metadata length`)
  }
  const mappings: Array<SymbolMapping> = []
  for (let i = 0; i < mappingCount; i++) {
    if (q + cstrLen + 4 > stop) return metaError(abs(q), `metadata ends inside mapping ${i}`)
    const rawSymbol = readCStr(u8, q, cstrLen)
    q += cstrLen
    const intervalCount = dv.getUint32(q, true)
    q += 4
    if (intervalCount > (stop - q) / (8 + cstrLen)) {
      return metaError(abs(q - 4), `interval count ${intervalCount} of mapping ${i} exceeds the metadata length`)
    }
    const intervals: Array<MappingInterval> = []
    for (let j = 0; j < intervalCount; j++) {
      intervals.push({
        start_date: dv.getUint32(q, true),
        end_date: dv.getUint32(q + 4, true),
        symbol: readCStr(u8, q + 8, cstrLen)
      })
      q += 8 + cstrLen
    }
    mappings.push({ raw_symbol: rawSymbol, intervals })
  }
  return {
    _tag: "ok",
    metadata: {
      version,
      dataset,
      schema: schema === 0xffff ? null : schema,
      start,
      end,
      limit,
      stype_in: stypeIn === 0xff ? null : stypeIn,
      stype_out: stypeOut === 0xff ? null : stypeOut,
      ts_out: tsOut !== 0,
      symbol_cstr_len: cstrLen,
      symbols,
      partial,
      not_found: notFound,
      mappings
    }
  }
}
