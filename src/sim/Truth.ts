/**
 * Ground truth of a simulated session, recorded from the simulator's own knowledge of who initiated each trade
 * (never by re-running the pipeline): the trade tape with true directions, the injected episodes, and the
 * expected 5-minute `PressureWindow` rows per (expiration, strike, option type).
 */
import { FIXED_PRICE_SCALE } from "../dbn/Constants.js"
import type { DominantSide, OptionType, PressureWindow } from "../flow/PressureWindow.js"
import { WINDOW_MS } from "../flow/PressureWindow.js"
import type { OptionInstrument } from "./Chain.js"

export type Direction = "BUY" | "SELL"
/** The rule the pipeline is expected to decide a trade with. */
export type Rule = "aggressor" | "quote"

/** Direction codes, as indices of `TradesOut`'s side names: 1 BUY, 2 SELL. */
export const DIR_BUY = 1
export const DIR_SELL = 2
/** Rule codes, as indices of `TradesOut`'s rule names: 1 aggressor, 2 quote. */
export const RULE_AGGRESSOR = 1
export const RULE_QUOTE = 2

/** One Trade (`T`) record with its true direction. */
export interface TrueTrade {
  /** ns since epoch. */
  readonly ts_event: bigint
  readonly instrument_id: number
  /** Index points. */
  readonly price: number
  /** Contracts. */
  readonly size: number
  /** Side byte of the T record: `B`, `A` or `N`. */
  readonly recordSide: "A" | "B" | "N"
  /** Who really initiated the trade. */
  readonly side: Direction
  readonly rule: Rule
  /** Id of the episode the trade belongs to, or -1 for background flow. */
  readonly episode: number
  readonly sequence: number
}

/** Every T record of a session, column-wise (a 20 M-record session has about a million trades). */
export class TradeTape {
  length = 0
  /** ts_event minus `baseNs`, ns (exact: sessions are far shorter than 2^53 ns). */
  tsOffset = new Float64Array(1024)
  instrumentId = new Uint32Array(1024)
  /** Price, 1e-9 units. */
  price = new Float64Array(1024)
  size = new Uint32Array(1024)
  recordSide = new Uint8Array(1024)
  /** DIR_BUY or DIR_SELL. */
  direction = new Uint8Array(1024)
  /** RULE_AGGRESSOR or RULE_QUOTE. */
  rule = new Uint8Array(1024)
  episode = new Int32Array(1024)
  sequence = new Uint32Array(1024)

  constructor(readonly baseNs: bigint) {}

  push(
    tsOffset: number,
    instrumentId: number,
    price: number,
    size: number,
    recordSide: number,
    direction: number,
    rule: number,
    episode: number,
    sequence: number
  ): void {
    if (this.length === this.size.length) this.grow()
    const i = this.length++
    this.tsOffset[i] = tsOffset
    this.instrumentId[i] = instrumentId
    this.price[i] = price
    this.size[i] = size
    this.recordSide[i] = recordSide
    this.direction[i] = direction
    this.rule[i] = rule
    this.episode[i] = episode
    this.sequence[i] = sequence
  }

  at(i: number): TrueTrade {
    return {
      ts_event: this.baseNs + BigInt(this.tsOffset[i]!),
      instrument_id: this.instrumentId[i]!,
      price: this.price[i]! / FIXED_PRICE_SCALE,
      size: this.size[i]!,
      recordSide: String.fromCharCode(this.recordSide[i]!) as "A" | "B" | "N",
      side: this.direction[i] === DIR_BUY ? "BUY" : "SELL",
      rule: this.rule[i] === RULE_AGGRESSOR ? "aggressor" : "quote",
      episode: this.episode[i]!,
      sequence: this.sequence[i]!
    }
  }

  *[Symbol.iterator](): IterableIterator<TrueTrade> {
    for (let i = 0; i < this.length; i++) yield this.at(i)
  }

  private grow(): void {
    const n = this.size.length * 2
    const g = <A extends Float64Array | Uint32Array | Uint8Array | Int32Array>(a: A, make: (n: number) => A): A => {
      const b = make(n)
      b.set(a)
      return b
    }
    this.tsOffset = g(this.tsOffset, (k) => new Float64Array(k))
    this.instrumentId = g(this.instrumentId, (k) => new Uint32Array(k))
    this.price = g(this.price, (k) => new Float64Array(k))
    this.size = g(this.size, (k) => new Uint32Array(k))
    this.recordSide = g(this.recordSide, (k) => new Uint8Array(k))
    this.direction = g(this.direction, (k) => new Uint8Array(k))
    this.rule = g(this.rule, (k) => new Uint8Array(k))
    this.episode = g(this.episode, (k) => new Int32Array(k))
    this.sequence = g(this.sequence, (k) => new Uint32Array(k))
  }
}

/** An injected institutional-flow episode. */
export interface EpisodeTruth {
  readonly id: number
  /** Planned interval, ns since epoch: [startNs, endNs). */
  readonly startNs: bigint
  readonly endNs: bigint
  /** ts_event of the episode's first and last Trade record (undefined if it never traded). */
  readonly firstTradeNs: bigint | undefined
  readonly lastTradeNs: bigint | undefined
  /** `YYYY-MM-DD`, as in `PressureWindow.expiration`. */
  readonly expiration: string
  readonly instrumentIds: ReadonlyArray<number>
  /** Strikes in points, ascending. */
  readonly strikes: ReadonlyArray<number>
  readonly optionType: OptionType
  readonly side: Direction
  /** Contracts traded by the episode's aggressive orders (sum of its T sizes). */
  readonly totalSize: number
  /** T records. */
  readonly trades: number
  /** Aggressive orders sent. */
  readonly orders: number
  /** Aggressive orders that traded at more than one price level. */
  readonly sweeps: number
  /** Σ price × size × multiplier, currency units. */
  readonly premium: number
}

/** A decoy: large flow that an institutional-flow detector should not report (ids from 1000 in the tape). */
export interface DecoyTruth extends EpisodeTruth {
  /** balanced: both sides on one strike; straddle: the call and the put of one strike traded together. */
  readonly kind: "balanced" | "straddle"
}

/** What the simulator wrote, by kind. */
export interface RecordCounts {
  /** Every record after the metadata. */
  readonly records: number
  readonly definitions: number
  readonly symbolMappings: number
  readonly mbo: number
  /** MBO records flagged F_SNAPSHOT (the session-start snapshot). */
  readonly snapshot: number
  /** MBO records per action letter (A C M R T F N). */
  readonly byAction: Readonly<Record<string, number>>
  /** Mid-session Clear events (each an `R` followed by re-adds). */
  readonly clears: number
  /** Bytes written, metadata included. */
  readonly bytes: number
}

export interface Truth {
  /** Expected closed windows, sorted by windowStart, expiration, strike, optionType. */
  readonly windows: ReadonlyArray<PressureWindow>
  readonly episodes: ReadonlyArray<EpisodeTruth>
  /** Decoy episodes (`SimParams.decoys`); their trades carry their id in the tape. */
  readonly decoys: ReadonlyArray<DecoyTruth>
  /** Every T record with its true direction; empty when the session was generated with `collectTrades: false`. */
  readonly trades: TradeTape
  readonly totals: {
    /** T records. */
    readonly trades: number
    readonly volume: number
    readonly buyVolume: number
    readonly sellVolume: number
    readonly premium: number
  }
  readonly counts: RecordCounts
}

/**
 * How a window's dominant side is named from its volumes: plain majority, ties neutral.
 * Kept in one place so it follows `src/flow` if the pipeline settles on a threshold.
 */
export const dominantSideOf = (bidVolume: number, askVolume: number): DominantSide =>
  askVolume > bidVolume ? "BUY" : bidVolume > askVolume ? "SELL" : "NEUTRAL"

interface Acc {
  readonly windowStart: number
  readonly option: OptionInstrument
  bid: number
  ask: number
  trades: number
  aggressor: number
  quote: number
  premium: number
  max: number
}

const NS_PER_WINDOW = WINDOW_MS * 1_000_000

/** Aggregates trades into expected windows as they are generated. */
export class WindowTruth {
  private readonly accs = new Map<number, Acc>()
  private readonly baseWindow: number
  private readonly baseRemainder: number

  /** @param baseNs ns since epoch that trade offsets are relative to */
  constructor(baseNs: bigint) {
    const w = BigInt(NS_PER_WINDOW)
    this.baseWindow = Number(baseNs / w)
    this.baseRemainder = Number(baseNs % w)
  }

  /**
   * @param tsOffset ts_event minus `baseNs`, ns
   * @param price 1e-9 units
   * @param multiplier contract multiplier (currency per point)
   */
  add(
    option: OptionInstrument,
    tsOffset: number,
    price: number,
    size: number,
    direction: number,
    rule: number,
    multiplier: number
  ): void {
    const windowIndex = this.baseWindow + Math.floor((this.baseRemainder + tsOffset) / NS_PER_WINDOW)
    const key = windowIndex * 1_000_000 + option.index
    let acc = this.accs.get(key)
    if (acc === undefined) {
      const windowStart = windowIndex * WINDOW_MS
      acc = { windowStart, option, bid: 0, ask: 0, trades: 0, aggressor: 0, quote: 0, premium: 0, max: 0 }
      this.accs.set(key, acc)
    }
    if (direction === DIR_BUY) acc.ask += size
    else acc.bid += size
    acc.trades++
    if (rule === RULE_AGGRESSOR) acc.aggressor++
    else acc.quote++
    acc.premium += (price / FIXED_PRICE_SCALE) * size * multiplier
    if (size > acc.max) acc.max = size
  }

  rows(): Array<PressureWindow> {
    const rows: Array<PressureWindow> = []
    for (const a of this.accs.values()) {
      const volume = a.bid + a.ask
      rows.push({
        windowStart: a.windowStart,
        expiration: a.option.expiry.expiration,
        strike: a.option.strike,
        optionType: a.option.optionType,
        bidVolume: a.bid,
        askVolume: a.ask,
        unknownVolume: 0,
        pressureRatio: a.bid === 0 ? null : a.ask / a.bid,
        totalTrades: a.trades,
        avgTradeSize: a.trades === 0 ? 0 : volume / a.trades,
        dominantSide: dominantSideOf(a.bid, a.ask),
        tradesAggressor: a.aggressor,
        tradesQuote: a.quote,
        tradesTick: 0,
        tradesNone: 0,
        premium: a.premium,
        maxTradeSize: a.max
      })
    }
    rows.sort(compareWindows)
    return rows
  }
}

/** Row order used by the truth (and handy for comparing pipeline output): time, expiration, strike, C before P. */
export const compareWindows = (a: PressureWindow, b: PressureWindow): number =>
  a.windowStart - b.windowStart ||
  (a.expiration < b.expiration ? -1 : a.expiration > b.expiration ? 1 : 0) ||
  a.strike - b.strike ||
  (a.optionType < b.optionType ? -1 : a.optionType > b.optionType ? 1 : 0)

/** A JSON-safe rendering of the truth (ns as decimal strings); the trade tape only when `withTrades`. */
export const toJson = (truth: Truth, withTrades: boolean): unknown => ({
  totals: truth.totals,
  counts: truth.counts,
  episodes: truth.episodes.map((e) => ({
    ...e,
    startNs: e.startNs.toString(),
    endNs: e.endNs.toString(),
    firstTradeNs: e.firstTradeNs?.toString() ?? null,
    lastTradeNs: e.lastTradeNs?.toString() ?? null
  })),
  windows: truth.windows,
  ...(withTrades ? { trades: Array.from(truth.trades, (t) => ({ ...t, ts_event: t.ts_event.toString() })) } : {})
})
