/**
 * The composed hot path: each DecodedChunk's records, in stream order, through instruments, L3 books, trade
 * direction, 5-minute windows, data-quality flags and counters. Plain loops over the batch columns; nothing is
 * allocated per record except a new order/level/window/instrument slot or a flagged record.
 * shared/spec/databento.md §4, §5.1, §5.7, §7.
 */
import { type DecodedChunk, type MboBatch, u64 } from "../dbn/Batch.js"
import { Action, Flags, RType } from "../dbn/Constants.js"
import type { DbnRecord, InstrumentDefMsg } from "../dbn/Records.js"
import { type Book, OUTCOME_NAMES } from "../book/Book.js"
import { type BookCounts, Books } from "../book/Books.js"
import { type Instrument, Instruments } from "../instruments/Instruments.js"
import { classify, Dir, Rule, type TickState } from "./Direction.js"
import { type PressureWindow, WINDOW_MS } from "./PressureWindow.js"
import { type FlaggedRecord, type FlagReason, outsideBand, points } from "./Quality.js"
import { windowIndexOf, Windows } from "./Windows.js"

export type { FlaggedRecord, FlagReason } from "./Quality.js"

export interface EngineOptions {
  /** Return every classified trade as a `TradeBatch` per chunk (default false). */
  readonly collectTrades?: boolean
  /**
   * A trade further below the bid or above the ask than max(`priceBand` × mid, `priceBandMinPoints`) is flagged
   * "PriceOutsideBand" (default 0.5, i.e. 50 % of the mid). Only checked against a two-sided, uncrossed book.
   */
  readonly priceBand?: number
  /** Smallest band allowance, price points (default 1.0: four NQ ticks, twenty reduced option ticks). */
  readonly priceBandMinPoints?: number
  /** Max trade size for instruments whose definition has no max_trade_vol, or that have none (default 2 000). */
  readonly defaultMaxTradeSize?: number
  /** Windows stay open this long after their end for lagging trades, ms (default 0). */
  readonly graceMs?: number
  /** A ts_event later than the record's ts_recv by more than this is not trusted, ms (default 60 000). */
  readonly maxEventAheadMs?: number
  /** Flagged records returned per `apply`; the rest are only counted (default 10 000). */
  readonly maxFlaggedPerChunk?: number
  /** Flag trades no rule could decide (default true). */
  readonly flagUndecided?: boolean
  /** Flag book anomalies: duplicate add, unknown cancel/modify, over-cancel, bad side/order (default true). */
  readonly flagBookAnomalies?: boolean
}

export const defaultOptions: Required<EngineOptions> = {
  collectTrades: false,
  priceBand: 0.5,
  priceBandMinPoints: 1,
  defaultMaxTradeSize: 2000,
  graceMs: 0,
  maxEventAheadMs: 60_000,
  maxFlaggedPerChunk: 10_000,
  flagUndecided: true,
  flagBookAnomalies: true
}

/** Classified trades of one chunk, struct-of-arrays, in stream order. */
export interface TradeBatch {
  length: number
  /** ts_event used for the trade (after the ts_recv fallback), ns halves. */
  readonly tsEventHi: Uint32Array
  readonly tsEventLo: Uint32Array
  readonly instrumentId: Uint32Array
  /** 1e-9 units (NaN when undefined). */
  readonly price: Float64Array
  /** Contracts. */
  readonly size: Uint32Array
  /** Dir: 0 UNKNOWN, 1 BUY, 2 SELL. */
  readonly side: Uint8Array
  /** Rule: 0 none, 1 aggressor, 2 quote, 3 tick. */
  readonly rule: Uint8Array
  /** Best bid / ask when the trade printed, 1e-9 units; NaN when that side was empty. */
  readonly bidPx: Float64Array
  readonly askPx: Float64Array
  /** The T record's own side byte (`B`, `A`, `N`). */
  readonly aggressor: Uint8Array
  readonly sequence: Uint32Array
}

export const allocTradeBatch = (capacity: number): TradeBatch => ({
  length: 0,
  tsEventHi: new Uint32Array(capacity),
  tsEventLo: new Uint32Array(capacity),
  instrumentId: new Uint32Array(capacity),
  price: new Float64Array(capacity),
  size: new Uint32Array(capacity),
  side: new Uint8Array(capacity),
  rule: new Uint8Array(capacity),
  bidPx: new Float64Array(capacity),
  askPx: new Float64Array(capacity),
  aggressor: new Uint8Array(capacity),
  sequence: new Uint32Array(capacity)
})

export interface EngineOutput {
  /** Windows closed by this chunk's records, sorted by window start, expiration, strike, C before P. */
  readonly closed: ReadonlyArray<PressureWindow>
  /** This chunk's trades; only with `collectTrades`. */
  readonly trades: TradeBatch | undefined
  /** This chunk's flagged records (at most `maxFlaggedPerChunk`). */
  readonly flagged: ReadonlyArray<FlaggedRecord>
}

/** An instrument seen in MBO records without a (live) definition. */
export interface UnknownInstrument {
  readonly instrumentId: number
  /** Its MBO records applied while it had no definition. */
  readonly records: number
  /** Raw symbol from a symbol mapping, if one came. */
  readonly symbol: string | undefined
}

/** Running totals since the engine was created. Plain numbers (JSON-safe); the object is live, copy to keep. */
export interface EngineStats {
  /** Every record applied (MBO + others). */
  records: number
  mboRecords: number
  otherRecords: number
  definitions: number
  symbolMappings: number
  /** ErrorMsg records from the gateway. */
  gatewayErrors: number
  /** T records (the only records that count as volume). */
  trades: number
  /** F records (not volume: the T record already counted the print). */
  fills: number
  /** Σ size of T records. */
  volume: number
  tradesByRule: { none: number; aggressor: number; quote: number; tick: number }
  volumeByRule: { none: number; aggressor: number; quote: number; tick: number }
  volumeBySide: { buy: number; sell: number; unknown: number }
  /** MBO records of instruments without a (live) definition. */
  unknownInstrumentRecords: number
  /** Distinct instrument ids seen without a definition. */
  unknownInstruments: number
  /** Book actions and anomalies. */
  book: BookCounts
  /** Flagged records returned. */
  flagged: number
  /** Flagged records over the per-chunk cap: counted, not returned. */
  flaggedSuppressed: number
  /** Every flag (returned or suppressed) by reason. */
  flaggedByReason: Partial<Record<FlagReason, number>>
  windowsClosed: number
  /** Trades whose window had closed before they arrived (not in any window). */
  lateTrades: number
  lateVolume: number
  /**
   * Trades in no window because their instrument is unknown (no definition) or is an option without a strike or
   * expiration. Futures and spreads, which never get windows, are not counted here.
   */
  unwindowedTrades: number
  /** Records whose ts_event was undefined and ts_recv was used (a warning count). */
  tsEventFallbacks: number
  /** Records whose ts_event ran ahead of ts_recv by more than the tolerance (ts_recv used). */
  tsEventAhead: number
  /** Records with neither time defined (they move no clock and join no window). */
  untimedRecords: number
  /** Books dropped a day after their instrument expired (their resting orders with them). */
  retiredBooks: number
}

const newStats = (book: BookCounts): EngineStats => ({
  records: 0,
  mboRecords: 0,
  otherRecords: 0,
  definitions: 0,
  symbolMappings: 0,
  gatewayErrors: 0,
  trades: 0,
  fills: 0,
  volume: 0,
  tradesByRule: { none: 0, aggressor: 0, quote: 0, tick: 0 },
  volumeByRule: { none: 0, aggressor: 0, quote: 0, tick: 0 },
  volumeBySide: { buy: 0, sell: 0, unknown: 0 },
  unknownInstrumentRecords: 0,
  unknownInstruments: 0,
  book,
  flagged: 0,
  flaggedSuppressed: 0,
  flaggedByReason: {},
  windowsClosed: 0,
  lateTrades: 0,
  lateVolume: 0,
  unwindowedTrades: 0,
  tsEventFallbacks: 0,
  tsEventAhead: 0,
  untimedRecords: 0,
  retiredBooks: 0
})

/** Everything the engine keeps per instrument id: one Map lookup per run of same-instrument records. */
class Slot implements TickState {
  lastPrice = NaN
  lastDirection: number = Dir.UNKNOWN
  instrument: Instrument | undefined = undefined
  /** Window key id, −1 when the instrument gets no windows. */
  keyId = -1
  multiplier = 1
  maxTradeVol: number
  /** Outright options and futures never trade at or below 0 (spreads can). */
  positivePrices = false
  isOption = false
  unknownRecords = 0
  /** Event time (ms) after which the book is retired: a day past the instrument's expiration (Infinity: never). */
  retireAtMs = Infinity
  constructor(readonly book: Book, maxTradeVol: number) {
    this.maxTradeVol = maxTradeVol
  }
}

const U32_MAX = 0xffffffff
const SNAPSHOT_OR_BAD = Flags.SNAPSHOT | Flags.MAYBE_BAD_BOOK
const TWO_32 = 4294967296
const NO_FLAGS: ReadonlyArray<FlaggedRecord> = []
const NO_WINDOWS: ReadonlyArray<PressureWindow> = []
/**
 * How long after an instrument's expiration its book is kept. Expired options get no more records, but whatever was
 * resting in their books would otherwise stay in memory for good: over months of daily and weekly expirations, that
 * is most of the order table.
 */
export const RETIRE_AFTER_MS = 86_400_000

export class FlowEngine {
  readonly instruments = new Instruments()
  readonly books = new Books()
  readonly windows: Windows
  private readonly options: Required<EngineOptions>
  private readonly aheadNs: number
  /** priceBandMinPoints in 1e-9 units. */
  private readonly bandFloor: number
  private readonly slots = new Map<number, Slot>()
  private lastId = -1
  private lastSlot: Slot | undefined = undefined
  private readonly counters: EngineStats
  private closedOut: Array<PressureWindow> = []
  /** Event time of the record being applied (see `resolve`), ns halves. */
  private tHi = 0
  private tLo = 0
  private timed = true
  private flaggedOut: Array<FlaggedRecord> = []
  /** The earliest `retireAtMs` of the slots (Infinity: none), checked as windows advance. */
  private retireAtMs = Infinity
  /** Event time (ms) at which books came due for retirement, done once the chunk is applied; −1: none. */
  private retireDueMs = -1

  constructor(options: EngineOptions = {}) {
    this.options = { ...defaultOptions, ...options }
    this.aheadNs = this.options.maxEventAheadMs * 1e6
    this.bandFloor = this.options.priceBandMinPoints * 1e9
    this.windows = new Windows({ graceMs: this.options.graceMs })
    this.counters = newStats(this.books.counts)
  }

  /** Live counters (see EngineStats). */
  get stats(): Readonly<EngineStats> {
    return this.counters
  }

  /** Event clock: the largest ts_event applied, ns (−1 before the first record). */
  get clockNs(): bigint {
    return this.windows.clockNs
  }

  /** Applies one decoded chunk: `others` and MBO rows interleaved exactly as they were in the stream. */
  apply(chunk: DecodedChunk): EngineOutput {
    const mbo = chunk.mbo
    const n = mbo.length
    const others = chunk.others
    const at = chunk.othersAt
    const nOthers = others.length
    const trades = this.options.collectTrades ? allocTradeBatch(countTrades(mbo)) : undefined
    let i = 0
    let k = 0
    for (;;) {
      while (k < nOthers && (at[k]! <= i || i >= n)) this.other(others[k++]!)
      if (i >= n) break
      const stop = k < nOthers ? Math.min(at[k]!, n) : n
      // `rows` stops at the first record of an instrument it has no slot for; the slot is made here, out of the
      // hot loop (so the optimizer spends its inlining budget on the book actions, not on this rare path).
      while ((i = this.rows(mbo, i, stop, trades)) < stop) this.slotFor(mbo.instrumentId[i]!)
    }
    this.counters.mboRecords += n
    this.counters.records += n + nOthers
    this.retireDue()
    return this.output(trades)
  }

  /**
   * Moves the event clock to `ns` if that is later (e.g. from a wall clock in live mode when the market is quiet)
   * and returns the windows this closes.
   */
  advanceTo(ns: bigint): ReadonlyArray<PressureWindow> {
    this.advanceNs(ns)
    this.retireDue()
    return this.output(undefined).closed
  }

  /** Closes and returns every open window (end of stream). Trades for those windows after this are late. */
  flush(): Array<PressureWindow> {
    const rows = this.windows.flush()
    this.counters.windowsClosed += rows.length
    return rows
  }

  /** The book of an instrument, if it has had records. */
  book(instrumentId: number): Book | undefined {
    return this.books.get(instrumentId)
  }

  /** Instruments that had MBO records without a definition, most records first. */
  unknownInstruments(): Array<UnknownInstrument> {
    const out: Array<UnknownInstrument> = []
    for (const [id, s] of this.slots) {
      if (s.unknownRecords > 0) {
        out.push({ instrumentId: id, records: s.unknownRecords, symbol: this.instruments.symbolOf(id) })
      }
    }
    return out.sort((a, b) => b.records - a.records || a.instrumentId - b.instrumentId)
  }

  // ---- per record ------------------------------------------------------------------------------------------

  /** Applies rows [from, to) up to the first record of an instrument without a slot; returns where it stopped. */
  private rows(b: MboBatch, from: number, to: number, trades: TradeBatch | undefined): number {
    const ids = b.instrumentId
    const eHi = b.tsEventHi
    const eLo = b.tsEventLo
    const action = b.action
    const side = b.side
    const flags = b.flags
    const oHi = b.orderIdHi
    const oLo = b.orderIdLo
    const pHi = b.priceHi
    const pLo = b.priceLo
    const size = b.size
    const books = this.books
    const counts = books.counts
    const windows = this.windows
    const stats = this.counters
    const flagBook = this.options.flagBookAnomalies
    let thHi = windows.thresholdHi
    let thLo = windows.thresholdLo
    let lastId = this.lastId
    let slot = this.lastSlot
    let i = from
    for (; i < to; i++) {
      const id = ids[i]!
      if (id !== lastId || slot === undefined) {
        const found = this.slots.get(id)
        if (found === undefined) break
        slot = found
        lastId = id
      }
      // The book's own loop takes the run of this instrument's Add/Cancel/Modify rows that move no clock and start
      // no snapshot; whatever it stops at comes down here.
      const book = slot.book
      if (!book.inSnapshot) {
        const j = book.run(b, i, to, thHi, thLo | 0, counts)
        if (j > i) {
          if (slot.instrument === undefined) {
            stats.unknownInstrumentRecords += j - i
            if (slot.unknownRecords === 0) stats.unknownInstruments++
            slot.unknownRecords += j - i
          }
          const outcome = book.lastOutcome
          if (outcome !== 0) {
            books.count(outcome)
            if (flagBook) this.flag(OUTCOME_NAMES[outcome] as FlagReason, b, j - 1, slot)
          }
          i = j - 1
          continue
        }
      }
      // Only a record at or past the next window boundary can close windows, and an undefined ts_event (all ones)
      // always is, so the ts_recv fallback and the plausibility check run only here and for trades.
      const hi = eHi[i]!
      const resolved = hi >= thHi && (hi > thHi || eLo[i]! >= thLo)
      if (resolved) {
        this.resolve(b, i, slot)
        if (this.timed) {
          this.closed(windows.advance(this.tHi, this.tLo), this.tHi, this.tLo)
          thHi = windows.thresholdHi
          thLo = windows.thresholdLo
        }
      }
      if (slot.instrument === undefined) {
        stats.unknownInstrumentRecords++
        if (slot.unknownRecords++ === 0) stats.unknownInstruments++
      }
      // Books.applyRecord, inlined: one call less per record on the hottest path.
      const a = action[i]!
      const f = flags[i]!
      if ((f & SNAPSHOT_OR_BAD) !== 0 || book.inSnapshot) books.noteFlags(book, a, f)
      let outcome = 0
      switch (a) {
        case Action.ADD:
          counts.adds++
          outcome = book.add(oHi[i]! | 0, oLo[i]! | 0, side[i]!, pHi[i]!, pLo[i]! | 0, size[i]!)
          break
        case Action.CANCEL:
          counts.cancels++
          outcome = book.cancel(oHi[i]! | 0, oLo[i]! | 0, size[i]!)
          break
        case Action.MODIFY:
          counts.modifies++
          outcome = book.modify(oHi[i]! | 0, oLo[i]! | 0, side[i]!, pHi[i]!, pLo[i]! | 0, size[i]!)
          break
        case Action.CLEAR:
          counts.clears++
          book.clear()
          break
        case Action.TRADE:
          this.trade(slot, b, i, trades, resolved)
          break
        case Action.FILL:
          stats.fills++
          break
      }
      if (outcome !== 0) {
        books.count(outcome)
        if (flagBook) this.flag(OUTCOME_NAMES[outcome] as FlagReason, b, i, slot)
      }
    }
    this.lastId = lastId
    this.lastSlot = slot
    return i
  }

  /**
   * The event time of row `i` into `tHi`/`tLo`/`timed`: ts_event, or ts_recv when ts_event is undefined (counted)
   * or runs ahead of ts_recv by more than the tolerance (counted and flagged).
   */
  private resolve(b: MboBatch, i: number, slot: Slot): void {
    const stats = this.counters
    let hi = b.tsEventHi[i]!
    let lo = b.tsEventLo[i]!
    const rHi = b.tsRecvHi[i]!
    const rLo = b.tsRecvLo[i]!
    let timed = true
    if (hi === U32_MAX && lo === U32_MAX) {
      stats.tsEventFallbacks++
      hi = rHi
      lo = rLo
      if (hi === U32_MAX && lo === U32_MAX) {
        stats.untimedRecords++
        timed = false
      }
    } else if (
      rHi !== U32_MAX && (b.flags[i]! & Flags.BAD_TS_RECV) === 0 && (hi - rHi) * TWO_32 + (lo - rLo) > this.aheadNs
    ) {
      stats.tsEventAhead++
      this.flag("TsEventAhead", b, i, slot)
      hi = rHi
      lo = rLo
    }
    this.tHi = hi
    this.tLo = lo
    this.timed = timed
  }

  private trade(slot: Slot, b: MboBatch, i: number, trades: TradeBatch | undefined, resolved: boolean): void {
    if (!resolved) this.resolve(b, i, slot)
    const hi = this.tHi
    const lo = this.tLo
    const stats = this.counters
    const px = b.price[i]!
    const sz = b.size[i]!
    const book = slot.book
    const bid = book.bestBidPrice
    const ask = book.bestAskPrice
    const code = classify(slot, b.side[i]!, px, bid, ask)
    const dir = code & 3
    const rule = code >>> 2
    stats.trades++
    stats.volume += sz
    switch (rule) {
      case Rule.AGGRESSOR:
        stats.tradesByRule.aggressor++
        stats.volumeByRule.aggressor += sz
        break
      case Rule.QUOTE:
        stats.tradesByRule.quote++
        stats.volumeByRule.quote += sz
        break
      case Rule.TICK:
        stats.tradesByRule.tick++
        stats.volumeByRule.tick += sz
        break
      default:
        stats.tradesByRule.none++
        stats.volumeByRule.none += sz
    }
    if (dir === Dir.BUY) stats.volumeBySide.buy += sz
    else if (dir === Dir.SELL) stats.volumeBySide.sell += sz
    else stats.volumeBySide.unknown += sz
    if (trades !== undefined) {
      const t = trades.length++
      trades.tsEventHi[t] = hi
      trades.tsEventLo[t] = lo
      trades.instrumentId[t] = b.instrumentId[i]!
      trades.price[t] = px
      trades.size[t] = sz
      trades.side[t] = dir
      trades.rule[t] = rule
      trades.bidPx[t] = bid
      trades.askPx[t] = ask
      trades.aggressor[t] = b.side[i]!
      trades.sequence[t] = b.sequence[i]!
    }
    if (px !== px || (slot.positivePrices && px <= 0)) this.flag("BadTradePrice", b, i, slot)
    else if (outsideBand(px, bid, ask, this.options.priceBand, this.bandFloor)) {
      this.flag("PriceOutsideBand", b, i, slot)
    }
    if (sz > slot.maxTradeVol) this.flag("SizeOverMax", b, i, slot)
    if (dir === Dir.UNKNOWN && this.options.flagUndecided) this.flag("UndecidedDirection", b, i, slot)
    if (slot.keyId < 0) {
      if (slot.isOption || slot.instrument === undefined) stats.unwindowedTrades++
      return
    }
    if (!this.timed) {
      stats.lateTrades++
      stats.lateVolume += sz
      return
    }
    if (!this.windows.add(slot.keyId, windowIndexOf(hi, lo), dir, rule, sz, px, slot.multiplier)) {
      stats.lateTrades++
      stats.lateVolume += sz
      this.flag("LateTrade", b, i, slot)
    }
  }

  // ---- other records ---------------------------------------------------------------------------------------

  private other(r: DbnRecord): void {
    this.counters.otherRecords++
    switch (r._tag) {
      case "definition":
        this.definition(r)
        break
      case "symbolMapping":
        this.counters.symbolMappings++
        this.instruments.applyMapping(r)
        break
      case "system":
        // Heartbeats come only when nothing else was sent for a while: let them close windows in a quiet market.
        if (r.isHeartbeat && r.hd.rtype === RType.SYSTEM) this.advanceNs(r.hd.ts_event)
        break
      case "error":
        this.counters.gatewayErrors++
        break
    }
  }

  private definition(def: InstrumentDefMsg): void {
    this.counters.definitions++
    const id = def.hd.instrument_id
    const outcome = this.instruments.apply(def)
    if (outcome === "deleted") {
      this.books.delete(id)
      this.slots.delete(id)
      if (this.lastId === id) this.lastSlot = undefined
      return
    }
    const slot = this.slots.get(id)
    if (slot !== undefined) this.bind(slot, this.instruments.get(id))
  }

  // ---- helpers ---------------------------------------------------------------------------------------------

  private slotFor(id: number): Slot {
    let slot = this.slots.get(id)
    if (slot === undefined) {
      slot = new Slot(this.books.getOrCreate(id), this.options.defaultMaxTradeSize)
      this.bind(slot, this.instruments.get(id))
      this.slots.set(id, slot)
    }
    return slot
  }

  private bind(slot: Slot, instrument: Instrument | undefined): void {
    slot.instrument = instrument
    if (instrument === undefined) {
      slot.keyId = -1
      slot.retireAtMs = Infinity
      slot.multiplier = 1
      slot.maxTradeVol = this.options.defaultMaxTradeSize
      slot.positivePrices = false
      slot.isOption = false
      return
    }
    slot.keyId = instrument.windowed
      ? this.windows.keyOf(instrument.expiration, instrument.strike, instrument.optionType!)
      : -1
    slot.multiplier = instrument.multiplier
    slot.retireAtMs = instrument.expirationNs === undefined
      ? Infinity
      : Number(instrument.expirationNs / 1_000_000n) + RETIRE_AFTER_MS
    if (slot.retireAtMs < this.retireAtMs) this.retireAtMs = slot.retireAtMs
    slot.maxTradeVol = instrument.maxTradeVol ?? this.options.defaultMaxTradeSize
    const cls = instrument.instrumentClass
    slot.isOption = instrument.optionType !== undefined
    slot.positivePrices = slot.isOption || cls === "F"
  }

  /** Retires the books that came due while a chunk was applied (or the clock was moved from outside). */
  private retireDue(): void {
    if (this.retireDueMs < 0) return
    this.retire(this.retireDueMs)
    this.retireDueMs = -1
  }

  /**
   * Drops the books (and slots) of instruments a day past their expiration at event time `nowMs`. The definition
   * stays known: a record that still comes for one starts a new, empty book.
   */
  private retire(nowMs: number): void {
    let next = Infinity
    for (const [id, slot] of this.slots) {
      if (slot.retireAtMs <= nowMs) {
        this.books.delete(id)
        this.slots.delete(id)
        this.counters.retiredBooks++
        if (this.lastId === id) {
          this.lastId = -1
          this.lastSlot = undefined
        }
      } else if (slot.retireAtMs < next) {
        next = slot.retireAtMs
      }
    }
    this.retireAtMs = next
  }

  private advanceNs(ns: bigint): void {
    if (ns < 0n || ns >= 0xffffffffffffffffn) return
    const hi = Number(ns >> 32n)
    const lo = Number(ns & 0xffffffffn)
    const w = this.windows
    if (hi > w.thresholdHi || (hi === w.thresholdHi && lo >= w.thresholdLo)) this.closed(w.advance(hi, lo), hi, lo)
  }

  /**
   * Takes the windows an advance of the event clock to `hi`/`lo` closed, and notes books it brought past their
   * retirement: they go when the chunk has been applied (`retireDue`), never under the record loop's feet.
   */
  private closed(rows: ReadonlyArray<PressureWindow>, hi: number, lo: number): void {
    const ms = hi * 4294.967296 + lo / 1e6
    if (ms >= this.retireAtMs) this.retireDueMs = ms
    if (rows.length === 0) return
    this.counters.windowsClosed += rows.length
    for (const r of rows) this.closedOut.push(r)
  }

  private output(trades: TradeBatch | undefined): EngineOutput {
    const closed = this.closedOut.length === 0 ? NO_WINDOWS : this.closedOut
    const flagged = this.flaggedOut.length === 0 ? NO_FLAGS : this.flaggedOut
    if (closed !== NO_WINDOWS) this.closedOut = []
    if (flagged !== NO_FLAGS) this.flaggedOut = []
    return { closed, trades, flagged }
  }

  private flag(reason: FlagReason, b: MboBatch, i: number, slot: Slot): void {
    const stats = this.counters
    stats.flaggedByReason[reason] = (stats.flaggedByReason[reason] ?? 0) + 1
    if (this.flaggedOut.length >= this.options.maxFlaggedPerChunk) {
      stats.flaggedSuppressed++
      return
    }
    stats.flagged++
    this.flaggedOut.push({
      tsEvent: u64(b.tsEventHi[i]!, b.tsEventLo[i]!),
      instrumentId: b.instrumentId[i]!,
      orderId: u64(b.orderIdHi[i]!, b.orderIdLo[i]!),
      sequence: b.sequence[i]!,
      reason,
      detail: this.detail(reason, b, i, slot)
    })
  }

  private detail(reason: FlagReason, b: MboBatch, i: number, slot: Slot): string {
    const px = b.price[i]!
    const book = slot.book
    const id = b.instrumentId[i]!
    const symbol = slot.instrument?.rawSymbol ?? this.instruments.symbolOf(id) ?? `#${id}`
    const what = `${symbol} ${String.fromCharCode(b.action[i]!)} side ${String.fromCharCode(b.side[i]!)}`
    switch (reason) {
      case "PriceOutsideBand":
        return `${what} price ${points(px)} outside bid ${points(book.bestBidPrice)} / ask ${
          points(book.bestAskPrice)
        } by more than max(${this.options.priceBand * 100}% of mid, ${this.options.priceBandMinPoints} points)`
      case "SizeOverMax":
        return `${what} size ${b.size[i]} > max ${slot.maxTradeVol}`
      case "BadTradePrice":
        return `${what} price ${points(px)}`
      case "UndecidedDirection": {
        const bid = book.bestBidPrice
        const ask = book.bestAskPrice
        const state = bid !== bid || ask !== ask ? "a side empty" : bid >= ask ? "book crossed or locked" : "inside"
        return `${what} price ${points(px)}, bid ${points(bid)} / ask ${points(ask)} (${state}), ` +
          "no earlier decided trade"
      }
      case "LateTrade":
        return `${what} window ${
          new Date(windowIndexOf(this.tHi, this.tLo) * WINDOW_MS).toISOString()
        } already closed`
      case "TsEventAhead":
        return `${what} ts_event ${u64(b.tsEventHi[i]!, b.tsEventLo[i]!)} > ts_recv ${
          u64(b.tsRecvHi[i]!, b.tsRecvLo[i]!)
        } + ${this.options.maxEventAheadMs} ms`
      default:
        return `${what} price ${points(px)} size ${b.size[i]}`
    }
  }
}

/** T rows of a batch (sizes the per-chunk TradeBatch). */
const countTrades = (b: MboBatch): number => {
  const action = b.action
  let n = 0
  for (let i = 0; i < b.length; i++) if (action[i] === Action.TRADE) n++
  return n
}
