/**
 * DBN v3 encoder: metadata, every record type the decoder surfaces, and a growable `DbnWriter` for writing
 * millions of MBO records (test files, the session simulator, the fake live gateway).
 * shared/spec/databento.md §2.3 ("Writing metadata"), §3, §5.
 */
import type { MboBatch } from "./Batch.js"
import { DBN_VERSION, RType } from "./Constants.js"
import * as Layout from "./Layout.js"
import type { Metadata } from "./Metadata.js"
import type { BidAskPair, DbnRecord, InstrumentDefMsg, MboMsg, RecordHeader } from "./Records.js"

/** Width of fixed symbol strings in v2/v3 metadata and records. */
export const SYMBOL_CSTR_LEN = 71

export interface EncodeOptions {
  /** Append the 8-byte ts_out suffix (`r.ts_out`, 0 when absent); use when the stream's metadata has ts_out. */
  readonly tsOut?: boolean
}

const charCode = (s: string): number => (s.length === 0 ? 0 : s.charCodeAt(0) & 0xff)

/** Writes a NUL-padded fixed-width string; throws RangeError when it does not fit (a caller bug). */
const writeCStr = (u8: Uint8Array, at: number, width: number, s: string, field: string): void => {
  if (s.length > width - 1) throw new RangeError(`${field} "${s}" is longer than ${width - 1} characters`)
  for (let i = 0; i < s.length; i++) u8[at + i] = s.charCodeAt(i) & 0xff
  u8.fill(0, at + s.length, at + width)
}

/** Bytes of the v3 metadata for `m`, including the prelude: 8 + length, length padded to a multiple of 8. */
export const metadataSize = (m: Metadata): number => {
  const L = SYMBOL_CSTR_LEN
  let length = 100 + 4 + 16 + (m.symbols.length + m.partial.length + m.not_found.length) * L
  for (const mapping of m.mappings) length += L + 4 + mapping.intervals.length * (8 + L)
  return 8 + Math.ceil(length / 8) * 8
}

/** Encodes metadata as DBN v3 (whatever `m.version` says), symbol strings 71 bytes wide, padded to 8 (§2.3). */
export const encodeMetadata = (m: Metadata): Uint8Array => {
  const total = metadataSize(m)
  const u8 = new Uint8Array(total)
  const dv = new DataView(u8.buffer)
  const L = SYMBOL_CSTR_LEN
  u8[0] = 0x44
  u8[1] = 0x42
  u8[2] = 0x4e
  u8[3] = DBN_VERSION
  dv.setUint32(4, total - 8, true)
  writeCStr(u8, 8, 16, m.dataset, "dataset")
  dv.setUint16(24, m.schema ?? 0xffff, true)
  dv.setBigUint64(26, m.start, true)
  dv.setBigUint64(34, m.end, true)
  dv.setBigUint64(42, m.limit, true)
  u8[50] = m.stype_in ?? 0xff
  u8[51] = m.stype_out ?? 0xff
  u8[52] = m.ts_out ? 1 : 0
  dv.setUint16(53, L, true)
  dv.setUint32(108, 0, true)
  let q = 112
  for (const [what, list] of [["symbols", m.symbols], ["partial", m.partial], ["not_found", m.not_found]] as const) {
    dv.setUint32(q, list.length, true)
    q += 4
    for (const s of list) {
      writeCStr(u8, q, L, s, what)
      q += L
    }
  }
  dv.setUint32(q, m.mappings.length, true)
  q += 4
  for (const mapping of m.mappings) {
    writeCStr(u8, q, L, mapping.raw_symbol, "raw_symbol")
    q += L
    dv.setUint32(q, mapping.intervals.length, true)
    q += 4
    for (const iv of mapping.intervals) {
      dv.setUint32(q, iv.start_date, true)
      dv.setUint32(q + 4, iv.end_date, true)
      writeCStr(u8, q + 8, L, iv.symbol, "interval symbol")
      q += 8 + L
    }
  }
  return u8
}

/** v3 size of a record in bytes, without ts_out. */
export const recordBodySize = (r: MboMsg | DbnRecord): number => {
  switch (r._tag) {
    case "mbo":
      return Layout.Mbo.size
    case "trade":
      return Layout.Trade.size
    case "mbp1":
      return Layout.MBP1_SIZE
    case "mbp10":
      return Layout.MBP10_SIZE
    case "ohlcv":
      return Layout.Ohlcv.size
    case "status":
      return Layout.Status.size
    case "stat":
      return Layout.StatV3.size
    case "symbolMapping":
      return Layout.SymbolMappingV2.size
    case "system":
      return Layout.SystemV2.size
    case "error":
      return Layout.ErrorV2.size
    case "definition":
      return Layout.DefinitionV3.size
  }
}

const rtypeOf = (r: MboMsg | DbnRecord): number => {
  switch (r._tag) {
    case "mbo":
      return RType.MBO
    case "trade":
      return RType.MBP_0
    case "mbp1":
      return RType.MBP_1
    case "mbp10":
      return RType.MBP_10
    case "ohlcv":
      // Several OHLCV rtypes share the layout: keep the record's own.
      return r.hd.rtype
    case "status":
      return RType.STATUS
    case "stat":
      return RType.STATISTICS
    case "symbolMapping":
      return RType.SYMBOL_MAPPING
    case "system":
      return RType.SYSTEM
    case "error":
      return RType.ERROR
    case "definition":
      return RType.INSTRUMENT_DEF
  }
}

const writeHeader = (dv: DataView, o: number, size: number, rtype: number, hd: RecordHeader): void => {
  dv.setUint8(o, size >>> 2)
  dv.setUint8(o + 1, rtype)
  dv.setUint16(o + 2, hd.publisher_id, true)
  dv.setUint32(o + 4, hd.instrument_id, true)
  dv.setBigUint64(o + 8, hd.ts_event, true)
}

/**
 * Writes one MBO record (56 bytes, 64 with `tsOut`) at `offset`; returns the bytes written. Every byte of the
 * record is written, so the target need not be zeroed.
 */
export const encodeMboInto = (view: DataView, offset: number, r: MboMsg, tsOut = false): number => {
  const M = Layout.Mbo
  const size = tsOut ? M.size + Layout.TS_OUT_SIZE : M.size
  writeHeader(view, offset, size, RType.MBO, r.hd)
  view.setBigUint64(offset + M.orderId, r.order_id, true)
  view.setBigInt64(offset + M.price, r.price, true)
  view.setUint32(offset + M.size_, r.size, true)
  view.setUint8(offset + M.flags, r.flags)
  view.setUint8(offset + M.channelId, r.channel_id)
  view.setUint8(offset + M.action, charCode(r.action))
  view.setUint8(offset + M.side, charCode(r.side))
  view.setBigUint64(offset + M.tsRecv, r.ts_recv, true)
  view.setInt32(offset + M.tsInDelta, r.ts_in_delta, true)
  view.setUint32(offset + M.sequence, r.sequence, true)
  if (tsOut) view.setBigUint64(offset + M.size, r.ts_out ?? 0n, true)
  return size
}

/**
 * Writes row `i` of an MBO batch as a 56-byte record (64 with `tsOut`, taking ts_out from the batch when it has
 * it); exact u32 halves, no BigInt. Returns the bytes written.
 */
export const encodeMboRowInto = (view: DataView, offset: number, b: MboBatch, i: number, tsOut = false): number => {
  const M = Layout.Mbo
  const size = tsOut ? M.size + Layout.TS_OUT_SIZE : M.size
  view.setUint8(offset, size >>> 2)
  view.setUint8(offset + 1, RType.MBO)
  view.setUint16(offset + 2, b.publisherId[i]!, true)
  view.setUint32(offset + 4, b.instrumentId[i]!, true)
  view.setUint32(offset + 8, b.tsEventLo[i]!, true)
  view.setUint32(offset + 12, b.tsEventHi[i]!, true)
  view.setUint32(offset + M.orderId, b.orderIdLo[i]!, true)
  view.setUint32(offset + M.orderId + 4, b.orderIdHi[i]!, true)
  view.setUint32(offset + M.price, b.priceLo[i]!, true)
  view.setInt32(offset + M.price + 4, b.priceHi[i]!, true)
  view.setUint32(offset + M.size_, b.size[i]!, true)
  view.setUint8(offset + M.flags, b.flags[i]!)
  view.setUint8(offset + M.channelId, b.channelId[i]!)
  view.setUint8(offset + M.action, b.action[i]!)
  view.setUint8(offset + M.side, b.side[i]!)
  view.setUint32(offset + M.tsRecv, b.tsRecvLo[i]!, true)
  view.setUint32(offset + M.tsRecv + 4, b.tsRecvHi[i]!, true)
  view.setInt32(offset + M.tsInDelta, b.tsInDelta[i]!, true)
  view.setUint32(offset + M.sequence, b.sequence[i]!, true)
  if (tsOut) {
    view.setUint32(offset + M.size, b.tsOutLo === undefined ? 0 : b.tsOutLo[i]!, true)
    view.setUint32(offset + M.size + 4, b.tsOutHi === undefined ? 0 : b.tsOutHi[i]!, true)
  }
  return size
}

const writeBidAsk = (dv: DataView, at: number, l: BidAskPair): void => {
  dv.setBigInt64(at + Layout.BidAsk.bidPx, l.bid_px, true)
  dv.setBigInt64(at + Layout.BidAsk.askPx, l.ask_px, true)
  dv.setUint32(at + Layout.BidAsk.bidSz, l.bid_sz, true)
  dv.setUint32(at + Layout.BidAsk.askSz, l.ask_sz, true)
  dv.setUint32(at + Layout.BidAsk.bidCt, l.bid_ct, true)
  dv.setUint32(at + Layout.BidAsk.askCt, l.ask_ct, true)
}

const writeDefinition = (u8: Uint8Array, dv: DataView, o: number, r: InstrumentDefMsg): void => {
  const fields = r as unknown as Record<string, unknown>
  for (const f of Layout.DefinitionV3.fields) {
    const v = fields[f.name]
    const at = o + f.offset
    switch (f.type) {
      case "u8":
      case "i8":
        dv.setUint8(at, (v as number) & 0xff)
        break
      case "u16":
      case "i16":
        dv.setUint16(at, (v as number) & 0xffff, true)
        break
      case "u32":
        dv.setUint32(at, v as number, true)
        break
      case "i32":
        dv.setInt32(at, v as number, true)
        break
      case "u64":
        dv.setBigUint64(at, v as bigint, true)
        break
      case "i64":
        dv.setBigInt64(at, v as bigint, true)
        break
      case "char":
        u8[at] = charCode(v as string)
        break
      case "str":
        writeCStr(u8, at, f.width, v as string, f.name)
        break
    }
  }
}

/**
 * Writes any record in its v3 layout at `offset` of a zeroed region (reserved bytes are left as they are);
 * returns the bytes written. `hd.length` is ignored: the v3 size (plus 8 with `tsOut`) is written.
 */
export const encodeRecordInto = (
  u8: Uint8Array,
  view: DataView,
  offset: number,
  r: MboMsg | DbnRecord,
  tsOut = false
): number => {
  if (r._tag === "mbo") return encodeMboInto(view, offset, r, tsOut)
  const body = recordBodySize(r)
  const size = tsOut ? body + Layout.TS_OUT_SIZE : body
  const o = offset
  writeHeader(view, o, size, rtypeOf(r), r.hd)
  switch (r._tag) {
    case "trade":
    case "mbp1":
    case "mbp10": {
      const T = Layout.Trade
      view.setBigInt64(o + T.price, r.price, true)
      view.setUint32(o + T.size_, r.size, true)
      u8[o + T.action] = charCode(r.action)
      u8[o + T.side] = charCode(r.side)
      u8[o + T.flags] = r.flags
      u8[o + T.depth] = r.depth
      view.setBigUint64(o + T.tsRecv, r.ts_recv, true)
      view.setInt32(o + T.tsInDelta, r.ts_in_delta, true)
      view.setUint32(o + T.sequence, r.sequence, true)
      if (r._tag !== "trade") {
        const levels = r._tag === "mbp1" ? 1 : 10
        for (let i = 0; i < levels && i < r.levels.length; i++) {
          writeBidAsk(view, o + T.levels + i * Layout.BidAsk.size, r.levels[i]!)
        }
      }
      break
    }
    case "ohlcv": {
      const O = Layout.Ohlcv
      view.setBigInt64(o + O.open, r.open, true)
      view.setBigInt64(o + O.high, r.high, true)
      view.setBigInt64(o + O.low, r.low, true)
      view.setBigInt64(o + O.close, r.close, true)
      view.setBigUint64(o + O.volume, r.volume, true)
      break
    }
    case "status": {
      const S = Layout.Status
      view.setBigUint64(o + S.tsRecv, r.ts_recv, true)
      view.setUint16(o + S.action, r.action, true)
      view.setUint16(o + S.reason, r.reason, true)
      view.setUint16(o + S.tradingEvent, r.trading_event, true)
      u8[o + S.isTrading] = charCode(r.is_trading)
      u8[o + S.isQuoting] = charCode(r.is_quoting)
      u8[o + S.isShortSellRestricted] = charCode(r.is_short_sell_restricted)
      break
    }
    case "stat": {
      const S = Layout.StatV3
      view.setBigUint64(o + S.tsRecv, r.ts_recv, true)
      view.setBigUint64(o + S.tsRef, r.ts_ref, true)
      view.setBigInt64(o + S.price, r.price, true)
      view.setBigInt64(o + S.quantity, r.quantity, true)
      view.setUint32(o + S.sequence, r.sequence, true)
      view.setInt32(o + S.tsInDelta, r.ts_in_delta, true)
      view.setUint16(o + S.statType, r.stat_type, true)
      view.setUint16(o + S.channelId, r.channel_id, true)
      u8[o + S.updateAction] = r.update_action
      u8[o + S.statFlags] = r.stat_flags
      break
    }
    case "symbolMapping": {
      const S = Layout.SymbolMappingV2
      u8[o + S.stypeIn] = r.stype_in
      writeCStr(u8, o + S.stypeInSymbol, S.symbolLen, r.stype_in_symbol, "stype_in_symbol")
      u8[o + S.stypeOut] = r.stype_out
      writeCStr(u8, o + S.stypeOutSymbol, S.symbolLen, r.stype_out_symbol, "stype_out_symbol")
      view.setBigUint64(o + S.startTs, r.start_ts, true)
      view.setBigUint64(o + S.endTs, r.end_ts, true)
      break
    }
    case "system": {
      const S = Layout.SystemV2
      writeCStr(u8, o + S.msg, S.msgLen, r.msg, "msg")
      u8[o + S.code] = r.code
      break
    }
    case "error": {
      const E = Layout.ErrorV2
      writeCStr(u8, o + E.err, E.errLen, r.err, "err")
      u8[o + E.code] = r.code
      u8[o + E.isLast] = r.is_last
      break
    }
    case "definition":
      writeDefinition(u8, view, o, r)
      break
  }
  if (tsOut) view.setBigUint64(o + body, r.ts_out ?? 0n, true)
  return size
}

/** Encodes one record in its DBN v3 layout. */
export const encodeRecord = (r: MboMsg | DbnRecord, opts?: EncodeOptions): Uint8Array => {
  const tsOut = opts?.tsOut ?? false
  const u8 = new Uint8Array(recordBodySize(r) + (tsOut ? Layout.TS_OUT_SIZE : 0))
  encodeRecordInto(u8, new DataView(u8.buffer), 0, r, tsOut)
  return u8
}

export interface DbnWriterOptions {
  /** Initial buffer size in bytes (default 1 MiB); the buffer doubles as needed. */
  readonly initialCapacity?: number
  /** Write the ts_out suffix on records (also switched on by `metadata(m)` with `m.ts_out`). */
  readonly tsOut?: boolean
}

/** A growable DBN v3 byte writer: metadata, then records, taken out whole (`toBytes`) or in chunks (`takeChunk`). */
export class DbnWriter {
  private buf: Uint8Array
  private view: DataView
  private len = 0
  private tsOut: boolean

  constructor(options: DbnWriterOptions = {}) {
    this.buf = new Uint8Array(Math.max(64, options.initialCapacity ?? 1 << 20))
    this.view = new DataView(this.buf.buffer)
    this.tsOut = options.tsOut ?? false
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.len
  }

  /** Writes v3 metadata; its `ts_out` decides whether the following records carry the suffix. */
  metadata(m: Metadata): this {
    this.tsOut = m.ts_out
    return this.bytes(encodeMetadata(m))
  }

  mbo(r: MboMsg): this {
    this.ensure(Layout.Mbo.size + Layout.TS_OUT_SIZE)
    this.len += encodeMboInto(this.view, this.len, r, this.tsOut)
    return this
  }

  /** Writes row `i` of a batch (exact halves, no BigInt: the fast path for generated sessions). */
  mboRow(batch: MboBatch, i: number): this {
    this.ensure(Layout.Mbo.size + Layout.TS_OUT_SIZE)
    this.len += encodeMboRowInto(this.view, this.len, batch, i, this.tsOut)
    return this
  }

  /** Writes rows `[from, to)` of a batch. */
  mboRows(batch: MboBatch, from = 0, to = batch.length): this {
    const M = Layout.Mbo
    const tsOut = this.tsOut
    const size = tsOut ? M.size + Layout.TS_OUT_SIZE : M.size
    this.ensure(Math.max(0, to - from) * size)
    const v = this.view
    const lengthByte = size >>> 2
    const { publisherId, instrumentId, tsEventHi, tsEventLo, orderIdHi, orderIdLo, priceHi, priceLo } = batch
    const { size: qty, flags, channelId, action, side, tsRecvHi, tsRecvLo, tsInDelta, sequence } = batch
    const { tsOutHi, tsOutLo } = batch
    let o = this.len
    for (let i = from; i < to; i++) {
      v.setUint8(o, lengthByte)
      v.setUint8(o + 1, RType.MBO)
      v.setUint16(o + 2, publisherId[i]!, true)
      v.setUint32(o + 4, instrumentId[i]!, true)
      v.setUint32(o + 8, tsEventLo[i]!, true)
      v.setUint32(o + 12, tsEventHi[i]!, true)
      v.setUint32(o + M.orderId, orderIdLo[i]!, true)
      v.setUint32(o + M.orderId + 4, orderIdHi[i]!, true)
      v.setUint32(o + M.price, priceLo[i]!, true)
      v.setInt32(o + M.price + 4, priceHi[i]!, true)
      v.setUint32(o + M.size_, qty[i]!, true)
      v.setUint8(o + M.flags, flags[i]!)
      v.setUint8(o + M.channelId, channelId[i]!)
      v.setUint8(o + M.action, action[i]!)
      v.setUint8(o + M.side, side[i]!)
      v.setUint32(o + M.tsRecv, tsRecvLo[i]!, true)
      v.setUint32(o + M.tsRecv + 4, tsRecvHi[i]!, true)
      v.setInt32(o + M.tsInDelta, tsInDelta[i]!, true)
      v.setUint32(o + M.sequence, sequence[i]!, true)
      if (tsOut) {
        v.setUint32(o + M.size, tsOutLo === undefined ? 0 : tsOutLo[i]!, true)
        v.setUint32(o + M.size + 4, tsOutHi === undefined ? 0 : tsOutHi[i]!, true)
      }
      o += size
    }
    this.len = o
    return this
  }

  record(r: MboMsg | DbnRecord): this {
    const size = recordBodySize(r) + Layout.TS_OUT_SIZE
    this.ensure(size)
    // The buffer is reused after takeChunk: reserved bytes must be zero again.
    this.buf.fill(0, this.len, this.len + size)
    this.len += encodeRecordInto(this.buf, this.view, this.len, r, this.tsOut)
    return this
  }

  /** Appends raw bytes (e.g. a pre-encoded record). */
  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
    return this
  }

  /** A copy of everything written and not yet taken. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len)
  }

  /**
   * The bytes written since the last take; the writer goes on empty. A mostly full buffer is handed over as it is
   * (no copy) and replaced; a mostly empty one is copied out and reused.
   */
  takeChunk(): Uint8Array {
    if (this.len * 2 < this.buf.length) {
      const out = this.buf.slice(0, this.len)
      this.len = 0
      return out
    }
    const out = this.buf.subarray(0, this.len)
    this.buf = new Uint8Array(this.buf.length)
    this.view = new DataView(this.buf.buffer)
    this.len = 0
    return out
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + extra) cap *= 2
    const grown = new Uint8Array(cap)
    grown.set(this.buf.subarray(0, this.len))
    this.buf = grown
    this.view = new DataView(grown.buffer)
  }
}
