/**
 * 5-minute event-time pressure windows per (expiration, strike, option type), closed by the stream's event
 * clock, plus the roll-up across expirations. ts_event is u64 ns held as u32 halves and bucketed exactly
 * (300 s = 2^11 × 146 484 375 ns). Output rows: `PressureWindow` (src/flow/PressureWindow.ts).
 */
import type { DominantSide, OptionType, PressureWindow } from "./PressureWindow.js"
import { WINDOW_MS } from "./PressureWindow.js"
import { Dir, Rule } from "./Direction.js"

/** Window length, ns. */
export const WINDOW_NS = 300_000_000_000n
/** 300 s / 2^11 ns. */
const ODD = 146_484_375
const TWO_21 = 2_097_152

/** Index of the 5-minute window holding ns time hi·2^32 + lo (UTC, aligned to :00, :05, …). Exact for any u64. */
export const windowIndexOf = (hi: number, lo: number): number => Math.floor((hi * TWO_21 + (lo >>> 11)) / ODD)

/** Same as `windowIndexOf` for a bigint ns time. */
export const windowIndexOfNs = (ns: bigint): number => Number(ns / WINDOW_NS)

/** First ns of window `w`. */
export const windowStartNs = (w: number): bigint => BigInt(w) * WINDOW_NS

/** Plain majority of directed volume; ties (including no directed volume) are NEUTRAL. */
export const dominantSideOf = (bidVolume: number, askVolume: number): DominantSide =>
  askVolume > bidVolume ? "BUY" : bidVolume > askVolume ? "SELL" : "NEUTRAL"

/** ask / bid, null when there is no bid volume (never Infinity or NaN). */
export const pressureRatioOf = (bidVolume: number, askVolume: number): number | null =>
  bidVolume === 0 ? null : askVolume / bidVolume

/** What a window is kept for. */
export interface WindowKey {
  /** YYYY-MM-DD (UTC). */
  readonly expiration: string
  /** Price points. */
  readonly strike: number
  readonly optionType: OptionType
}

export interface WindowsOptions {
  /**
   * How long after its end a window stays open for trades whose ts_event lags the stream clock, ms (default 0:
   * a window closes as soon as the clock reaches its end).
   */
  readonly graceMs?: number
}

class Acc {
  bid = 0
  ask = 0
  unknown = 0
  trades = 0
  aggressor = 0
  quote = 0
  tick = 0
  none = 0
  premium = 0
  max = 0
  constructor(readonly window: number, readonly keyId: number, public older: Acc | undefined) {}
}

const NO_ROWS: Array<PressureWindow> = []

/**
 * Open windows and the event clock that closes them.
 *
 * Closing rule: the clock is the largest time passed to `advance`: the event time (ts_event, else ts_recv) of every
 * MBO record of every instrument, plus gateway heartbeats (the engine skips the call for records below
 * `threshold`, which cannot close anything). When the clock reaches `end(w) + grace`, where end(w) is the first ns
 * of window w + 1, every open window w closes; windows that close on the same `advance` are returned together,
 * sorted by window start, expiration, strike, C before P. A trade for a window that has closed is late: `add`
 * refuses it. `flush` closes everything at end of stream.
 */
export class Windows {
  /** Next clock value (ns halves) at which `advance` has something to do. Read inline by the engine. */
  thresholdHi = 0
  thresholdLo = 0
  /** Windows with an index below this have closed (trades for them are late). */
  closedBelow = -Infinity
  /** Rows emitted so far. */
  closedCount = 0

  private readonly graceNs: bigint
  private clock = -1n
  private readonly keys: Array<WindowKey> = []
  private readonly keyIds = new Map<string, number>()
  /** Newest open window per key; older open ones (only with a grace period) chain through `older`. */
  private newest: Array<Acc | undefined> = []
  private open: Array<Acc> = []

  constructor(options: WindowsOptions = {}) {
    this.graceNs = BigInt(Math.max(0, Math.round(options.graceMs ?? 0))) * 1_000_000n
  }

  /** Id of a (expiration, strike, type) key, registered on first use. Call once per instrument, not per trade. */
  keyOf(expiration: string, strike: number, optionType: OptionType): number {
    const name = `${expiration}|${strike}|${optionType}`
    let id = this.keyIds.get(name)
    if (id === undefined) {
      id = this.keys.length
      this.keys.push({ expiration, strike, optionType })
      this.keyIds.set(name, id)
      this.newest.push(undefined)
    }
    return id
  }

  key(keyId: number): WindowKey {
    return this.keys[keyId]!
  }

  /** Event clock, ns (−1 before the first `advance`). */
  get clockNs(): bigint {
    return this.clock
  }

  /** Open windows. */
  get openCount(): number {
    return this.open.length
  }

  /**
   * Adds one trade to window `window` of key `keyId`. Returns false (and adds nothing) when that window has
   * already closed.
   * @param direction Dir code
   * @param rule Rule code
   * @param size contracts
   * @param price 1e-9 units (NaN adds no premium)
   * @param multiplier currency per price point
   */
  add(
    keyId: number,
    window: number,
    direction: number,
    rule: number,
    size: number,
    price: number,
    multiplier: number
  ): boolean {
    if (window < this.closedBelow) return false
    let acc = this.newest[keyId]
    if (acc === undefined || acc.window !== window) acc = this.accFor(keyId, window, acc)
    if (direction === Dir.BUY) acc.ask += size
    else if (direction === Dir.SELL) acc.bid += size
    else acc.unknown += size
    acc.trades++
    switch (rule) {
      case Rule.AGGRESSOR:
        acc.aggressor++
        break
      case Rule.QUOTE:
        acc.quote++
        break
      case Rule.TICK:
        acc.tick++
        break
      default:
        acc.none++
    }
    if (price === price) acc.premium += (price / 1e9) * size * multiplier
    if (size > acc.max) acc.max = size
    return true
  }

  /**
   * Moves the clock to ns time hi·2^32 + lo (never backwards) and returns the windows this closes (often none).
   * Cheap to skip: nothing can close before the clock reaches (`thresholdHi`, `thresholdLo`).
   */
  advance(hi: number, lo: number): Array<PressureWindow> {
    const ns = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)
    if (ns > this.clock) this.clock = ns
    const t = this.clock - this.graceNs
    const limit = t < 0n ? 0 : Number(t / WINDOW_NS)
    const next = BigInt(limit + 1) * WINDOW_NS + this.graceNs
    this.thresholdHi = Number(next >> 32n)
    this.thresholdLo = Number(next & 0xffffffffn)
    return limit > this.closedBelow ? this.closeBefore(limit) : NO_ROWS
  }

  /** Closes every open window (end of stream) and returns them; later trades for those windows are late. */
  flush(): Array<PressureWindow> {
    let top = this.closedBelow
    for (const a of this.open) if (a.window + 1 > top) top = a.window + 1
    return this.closeBefore(top)
  }

  private accFor(keyId: number, window: number, newest: Acc | undefined): Acc {
    let newer: Acc | undefined = undefined
    let a = newest
    while (a !== undefined && a.window > window) {
      newer = a
      a = a.older
    }
    if (a !== undefined && a.window === window) return a
    const acc = new Acc(window, keyId, a)
    if (newer === undefined) this.newest[keyId] = acc
    else newer.older = acc
    this.open.push(acc)
    return acc
  }

  private closeBefore(limit: number): Array<PressureWindow> {
    if (limit > this.closedBelow) this.closedBelow = limit
    const open = this.open
    let kept = 0
    let rows: Array<PressureWindow> | undefined = undefined
    for (let j = 0; j < open.length; j++) {
      const a = open[j]!
      if (a.window < limit) {
        if (rows === undefined) rows = []
        rows.push(this.row(a))
        if (this.newest[a.keyId] === a) this.newest[a.keyId] = undefined
      } else {
        if (a.older !== undefined && a.older.window < limit) a.older = undefined
        open[kept++] = a
      }
    }
    open.length = kept
    if (rows === undefined) return NO_ROWS
    rows.sort(compareRows)
    this.closedCount += rows.length
    return rows
  }

  private row(a: Acc): PressureWindow {
    const k = this.keys[a.keyId]!
    const volume = a.bid + a.ask + a.unknown
    return {
      windowStart: a.window * WINDOW_MS,
      expiration: k.expiration,
      strike: k.strike,
      optionType: k.optionType,
      bidVolume: a.bid,
      askVolume: a.ask,
      unknownVolume: a.unknown,
      pressureRatio: pressureRatioOf(a.bid, a.ask),
      totalTrades: a.trades,
      avgTradeSize: a.trades === 0 ? 0 : volume / a.trades,
      dominantSide: dominantSideOf(a.bid, a.ask),
      tradesAggressor: a.aggressor,
      tradesQuote: a.quote,
      tradesTick: a.tick,
      tradesNone: a.none,
      premium: a.premium,
      maxTradeSize: a.max
    }
  }
}

/** Row order: window start, expiration, strike, C before P. */
export const compareRows = (a: PressureWindow, b: PressureWindow): number =>
  a.windowStart - b.windowStart ||
  (a.expiration < b.expiration ? -1 : a.expiration > b.expiration ? 1 : 0) ||
  a.strike - b.strike ||
  (a.optionType < b.optionType ? -1 : a.optionType > b.optionType ? 1 : 0)
