/**
 * The simulated market: an underlying random walk, market makers quoting every option around a model price,
 * background trades, injected institutional episodes and occasional book clears, emitted as MBO events in the
 * GLBX record pattern (shared/spec/databento.md §4, §7) and recorded into the ground truth as they happen.
 */
import { Action, FIXED_PRICE_SCALE, Flags, Side } from "../dbn/Constants.js"
import type { Chain, OptionInstrument } from "./Chain.js"
import { MAX_TRADE_VOL, MULTIPLIER, TICK } from "./Definitions.js"
import * as Pricing from "./Pricing.js"
import type { Rng } from "./Random.js"
import { ASK, BID, type BookSide, makeOrder, type Order, SimBook } from "./SimBook.js"
import {
  DIR_BUY,
  DIR_SELL,
  type EpisodeTruth,
  RULE_AGGRESSOR,
  RULE_QUOTE,
  type DecoyTruth,
  type TradeTape,
  type WindowTruth
} from "./Truth.js"

/** Where the market writes its records (no BigInt on this path: every value is an exact double). */
export interface MboSink {
  /**
   * Timing and sequence shared by the records that follow, until the next call.
   * @param tsEvent ns after the session start
   * @param tsRecv ns after the session start
   */
  setEvent(tsEvent: number, tsRecv: number, tsInDelta: number, sequence: number): void
  /**
   * One MBO record.
   * @param orderId below 2^53
   * @param price 1e-9 units; NaN for UNDEF_PRICE (a Clear)
   */
  mbo(
    instrumentId: number,
    channelId: number,
    orderId: number,
    price: number,
    size: number,
    flags: number,
    action: number,
    side: number
  ): void
}

export interface MarketParams {
  /** Session start, ns since epoch: the snapshot time and the base of every offset. */
  readonly startNs: bigint
  /** Session length, ns. */
  readonly durationNs: number
  /** Records (all kinds) the live part should produce; the background rate adapts to it. */
  readonly targetRecords: number
  readonly underlyingPrice: number
  /** Annualised volatility of the underlying and the option model. */
  readonly volatility: number
  /** Price levels each market maker keeps per side. */
  readonly levelsPerSide: number
  /** Share of background events that are trades. */
  readonly tradeShare: number
  /** Share of background trades printed with side `N` (decided by the quote rule). */
  readonly unattributedShare: number
  readonly episodes: number
  /** Decoy episodes: large but balanced flow on one strike, or a call and a put at one strike together. */
  readonly decoys: number
  /** Range of an episode's median order size, contracts. */
  readonly episodeSize: readonly [number, number]
  /** Range of an episode's aggressive order count. */
  readonly episodeOrders: readonly [number, number]
  readonly clears: number
  readonly collectTrades: boolean
}

/** What an episode is: directional institutional flow, or a decoy that looks large but carries no direction. */
export type EpisodeKind = "flow" | "balanced" | "straddle"
/** Ids of decoy episodes start here (flow episodes count from 0). */
export const DECOY_ID_BASE = 1000

/** The usual GLBX flags on the last record of a book update: F_LAST plus the publisher bit. */
const LAST = Flags.LAST | Flags.PUBLISHER_SPECIFIC
const SNAPSHOT = Flags.SNAPSHOT | Flags.BAD_TS_RECV
const NS = 1e9
const WEIGHTS_EVERY_NS = 30 * NS

interface OptState {
  readonly option: OptionInstrument
  readonly book: SimBook
  readonly isCall: boolean
  /** Expiration as seconds after the session start. */
  readonly expirySec: number
  /** The maker's quote (ticks) and when it was computed (ns offset; -Infinity = never). */
  readonly q: { bid: number; ask: number; step: number }
  quotedAt: number
}

/** How long a maker's model quote stays valid, ns (the events of one burst share it). */
const QUOTE_TTL = 2_000_000
const TICK_POINTS = TICK / FIXED_PRICE_SCALE

interface EpisodeState {
  readonly id: number
  readonly kind: EpisodeKind
  readonly startOff: number
  readonly endOff: number
  readonly side: number
  readonly expiryIndex: number
  readonly isCall: boolean
  readonly meanGap: number
  readonly medianSize: number
  opts: Array<OptState>
  nextAt: number
  active: boolean
  totalSize: number
  trades: number
  orders: number
  sweeps: number
  premium: number
  firstTrade: number
  lastTrade: number
}

interface Refill {
  readonly due: number
  readonly opt: OptState
}

export class Market {
  readonly opts: Array<OptState>
  /** Clear events emitted mid-session. */
  clears = 0
  /** MBO records emitted by the live part (after the snapshot). */
  liveRecords = 0
  /** Set once the session end is reached. */
  done = false

  private spotValue: number
  private spotT = 0
  private t = 0
  private recvT = 0
  private seq: number
  private nextOrderId: number
  private readonly cumWeights: Float64Array
  private weightsAt = -Infinity
  private nextBg = 0
  /** Background bursts started (the unit the background rate is planned in). */
  private bursts = 0
  private burstOpt: OptState | undefined = undefined
  private burstLeft = 0
  private readonly episodes: Array<EpisodeState> = []
  private readonly refills: Array<Refill> = []
  private readonly clearTimes: Array<number> = []
  private readonly volPerSqrtSec: number
  private readonly fillOrders: Array<Order> = []
  private readonly fillQty: Array<number> = []
  private readonly scratch: Array<Order> = []
  private readonly levelFills: Array<number> = []

  // The record held back until the next one shows whether it is the event's last.
  private pendingOpt: OptState | undefined = undefined
  private pendingId = 0
  private pendingPrice = 0
  private pendingSize = 0
  private pendingFlags = 0
  private pendingAction = 0
  private pendingSide = 0

  constructor(
    private readonly params: MarketParams,
    private readonly chain: Chain,
    private readonly rng: Rng,
    private readonly out: MboSink,
    private readonly windows: WindowTruth,
    private readonly tape: TradeTape
  ) {
    this.spotValue = params.underlyingPrice
    this.seq = 1_000_000 + rng.int(50_000_000)
    this.nextOrderId = 6_400_000_000_000 + rng.int(1_000_000_000)
    this.volPerSqrtSec = params.volatility / Math.sqrt(Pricing.SECONDS_PER_YEAR)
    this.opts = chain.options.map((option) => ({
      option,
      book: new SimBook(),
      isCall: option.optionType === "C",
      expirySec: Number(option.expiry.expirationNs - params.startNs) / NS,
      q: { bid: 0, ask: 0, step: 1 },
      quotedAt: -Infinity
    }))
    this.cumWeights = new Float64Array(this.opts.length)
    this.planEpisodes()
    this.planClears()
    // planned after everything else so that sessions without decoys draw exactly the same numbers as before
    this.planDecoys()
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Session start

  /** Seeds every book and emits the session-start snapshot: per instrument a Clear, then its orders (flags 40/168). */
  snapshot(): void {
    const startSeq = this.seq
    for (const o of this.opts) {
      this.quoteFromScratch(o, startSeq)
      this.out.setEvent(0, 0, 0, startSeq)
      this.push(o, Action.CLEAR, Side.NONE, 0, -1, 0, SNAPSHOT)
      for (const order of o.book.orders()) {
        // snapshot orders carry the sequence of their own last update
        this.flushPending()
        this.out.setEvent(0, 0, 0, order.seq)
        this.push(o, Action.ADD, order.side === BID ? Side.BID : Side.ASK, order.id, order.ticks, order.size, SNAPSHOT)
      }
      this.close(SNAPSHOT | Flags.LAST)
    }
    this.liveRecords = 0
    this.seq += 10
    this.t = 1000
    this.recvT = this.t
    this.nextBg = this.t + this.rng.exp(this.bgGap())
  }

  private quoteFromScratch(o: OptState, startSeq: number): void {
    const q = this.quote(o)
    for (const side of [BID, ASK] as const) {
      for (let k = 0; k < this.params.levelsPerSide; k++) {
        const ticks = side === BID ? q.bid - k * q.step : q.ask + k * q.step
        if (ticks < 1) break
        const n = this.rng.between(1, 3)
        for (let j = 0; j < n; j++) {
          const order = this.newOrder(side, ticks, this.mmSize(k))
          order.seq = startSeq - this.rng.between(1, 200_000)
          o.book.add(order)
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Event loop

  /** Emits the next venue event; sets `done` at the session end. */
  step(): void {
    let at = this.nextBg
    let kind = 0
    let ep: EpisodeState | undefined
    for (const e of this.episodes) {
      if (e.nextAt < at && e.nextAt < e.endOff) {
        at = e.nextAt
        ep = e
        kind = 1
      }
    }
    let refillIndex = -1
    for (let i = 0; i < this.refills.length; i++) {
      if (this.refills[i]!.due < at) {
        at = this.refills[i]!.due
        refillIndex = i
        kind = 2
        ep = undefined
      }
    }
    const nextClear = this.clearTimes.length > 0 ? this.clearTimes[this.clearTimes.length - 1]! : Infinity
    if (nextClear < at) {
      at = nextClear
      kind = 3
    }
    if (at >= this.params.durationNs) {
      this.done = true
      return
    }
    this.advanceTo(at)
    switch (kind) {
      case 0:
        this.background()
        // a burst's events follow each other within microseconds; bursts are spread to meet the record target
        this.nextBg = this.t + 1 + this.rng.exp(this.burstLeft > 0 ? 25_000 : this.bgGap())
        break
      case 1:
        this.episodeEvent(ep!)
        break
      case 2: {
        const r = this.refills[refillIndex]!
        this.refills.splice(refillIndex, 1)
        this.refill(r.opt)
        break
      }
      case 3:
        this.clearTimes.pop()
        this.clearAndReadd(this.pickOption())
        this.clears++
        break
    }
  }

  /** Mean ns between background bursts so the live records land near the target at the session end. */
  private bgGap(): number {
    const perEvent = this.bursts < 1000 ? 4 : this.liveRecords / this.bursts
    const left = this.params.durationNs - this.t
    // Ahead of plan, slow down at most to half the planned rate rather than stopping (or cramming at the end).
    const planned = (left / this.params.durationNs) * this.params.targetRecords
    const remaining = Math.max(this.params.targetRecords - this.liveRecords, planned * 0.5, 1)
    return Math.max(1, (left * perEvent) / remaining)
  }

  private advanceTo(at: number): void {
    const next = Math.max(Math.floor(at), this.t + 1)
    this.t = next
    // ts_recv trails ts_event by a few to a few hundred microseconds and never goes backwards
    const latency = 3_000 + this.rng.int(40_000) + (this.rng.chance(0.01) ? this.rng.int(400_000) : 0)
    this.recvT = Math.max(this.recvT + 1, next + latency)
    this.seq += 1 + (this.rng.u32() & 3)
    this.out.setEvent(next, this.recvT, 12_000 + this.rng.int(8_000), this.seq)
    if (next - this.weightsAt >= WEIGHTS_EVERY_NS) this.updateWeights()
  }

  /** The underlying, advanced lazily: a random-walk step over the time since it was last looked at. */
  private get spot(): number {
    if (this.spotT !== this.t) {
      const dtSec = (this.t - this.spotT) / NS
      this.spotValue *= 1 + this.volPerSqrtSec * Math.sqrt(dtSec) * this.rng.normal()
      this.spotT = this.t
    }
    return this.spotValue
  }

  /**
   * A background event. Activity comes in bursts on one instrument (a maker updating several orders, a trade and
   * its aftermath), as on the real feed; it also keeps one book hot in cache for several events.
   */
  private background(): void {
    let o = this.burstOpt
    if (this.burstLeft <= 0 || o === undefined) {
      o = this.pickOption()
      this.burstOpt = o
      this.burstLeft = 1 + Math.floor(this.rng.exp(6))
      this.bursts++
    }
    this.burstLeft--
    if (this.rng.chance(this.params.tradeShare)) {
      if (this.backgroundTrade(o)) return
    }
    this.makeMarket(o)
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Market making

  /** The maker's quote in ticks: model value ± a half-spread of about 0.4 %, and the spacing of its levels. */
  private quote(o: OptState): { bid: number; ask: number; step: number } {
    const out = o.q
    if (this.t - o.quotedAt < QUOTE_TTL) return out
    o.quotedAt = this.t
    const tSec = this.t / NS
    const years = (o.expirySec - tSec) / Pricing.SECONDS_PER_YEAR
    const fair = Pricing.fairValue(o.isCall, this.spot, o.option.strike, years, this.params.volatility) / TICK_POINTS
    const half = Math.max(1, fair * 0.004)
    let bid = Math.floor(fair - half)
    if (bid < 1) bid = 1
    let ask = Math.ceil(fair + half)
    if (ask <= bid) ask = bid + 1
    out.bid = bid
    out.ask = ask
    out.step = Math.max(1, Math.round(half / 2))
    return out
  }

  private mmSize(level: number): number {
    return this.rng.between(1, 12) + level * this.rng.between(0, 6)
  }

  /** One market-maker action on one instrument: reprice a stale quote, or add / cancel / modify an order. */
  private makeMarket(o: OptState): void {
    const book = o.book
    const q = this.quote(o)
    const L = this.params.levelsPerSide
    // A quote on the wrong side of the model price is fixed first (the maker would be picked off).
    if (book.bestBid() >= q.ask) return this.shiftSide(o, BID, q.bid - book.bestBid())
    if (book.bestAsk() <= q.bid) return this.shiftSide(o, ASK, q.ask - book.bestAsk())
    const side: BookSide = this.rng.chance(0.5) ? BID : ASK
    const count = this.sideCount(book, side)
    if (count < L) return this.addAt(o, side, this.levelPrice(q, side, this.rng.int(L)), this.mmSize(0))
    if (count > 3 * L) return this.cancel(o, this.deepest(book, side))
    const r = this.rng.next()
    if (r < 0.22) {
      const top = side === BID ? q.bid : q.ask
      const current = side === BID ? book.bestBid() : book.bestAsk()
      if (Math.abs(current - top) >= 2 * q.step) return this.shiftSide(o, side, top - current)
      if (current !== top && book.canRest(side, top)) {
        if (this.rng.chance(0.5)) return this.reprice(o, this.randomOrder(book, side), top)
        return this.addAt(o, side, top, this.mmSize(0))
      }
      return this.addAt(o, side, this.levelPrice(q, side, this.rng.int(L)), this.mmSize(1))
    }
    if (r < 0.40) {
      const k = this.rng.int(L)
      return this.addAt(o, side, this.levelPrice(q, side, k), this.mmSize(k))
    }
    if (r < 0.58) {
      return this.cancel(o, this.rng.chance(0.5) ? this.deepest(book, side) : this.randomOrder(book, side))
    }
    if (r < 0.70) {
      const order = this.randomOrder(book, side)
      if (order.size < 2) return this.cancel(o, order)
      return this.partialCancel(o, order, this.rng.between(1, order.size - 1))
    }
    if (r < 0.82) {
      const order = this.randomOrder(book, side)
      let size = order.size + this.rng.between(-order.size + 1, 10)
      if (size === order.size) size++
      this.push(o, Action.MODIFY, order.side === BID ? Side.BID : Side.ASK, order.id, order.ticks, size, 0)
      book.modify(order, order.ticks, size)
      return this.close(LAST)
    }
    if (r < 0.93) {
      // cancel/replace in one event: two records, F_LAST on the second
      const order = this.randomOrder(book, side)
      this.push(o, Action.CANCEL, order.side === BID ? Side.BID : Side.ASK, order.id, order.ticks, order.size, 0)
      book.remove(order)
      const k = this.rng.int(L)
      const ticks = this.levelPrice(q, side, k)
      if (ticks >= 1 && book.canRest(side, ticks)) {
        const fresh = this.newOrder(side, ticks, this.mmSize(k))
        this.push(o, Action.ADD, side === BID ? Side.BID : Side.ASK, fresh.id, ticks, fresh.size, 0)
        book.add(fresh)
      }
      return this.close(LAST)
    }
    const k = this.rng.int(L)
    return this.reprice(o, this.randomOrder(book, side), this.levelPrice(q, side, k))
  }

  /** Price of the maker's k-th level; bids never go below one tick, where they pile up as on a real chain. */
  private levelPrice(q: { bid: number; ask: number; step: number }, side: BookSide, k: number): number {
    return side === BID ? Math.max(1, q.bid - k * q.step) : q.ask + k * q.step
  }

  private sideCount(book: SimBook, side: BookSide): number {
    let n = 0
    for (const l of book.sides[side]) n += l.orders.length
    return n
  }

  private randomOrder(book: SimBook, side: BookSide): Order {
    const levels = book.sides[side]
    const level = levels[this.rng.int(levels.length)]!
    return level.orders[this.rng.int(level.orders.length)]!
  }

  private deepest(book: SimBook, side: BookSide): Order {
    const levels = book.sides[side]
    const level = levels[levels.length - 1]!
    return level.orders[level.orders.length - 1]!
  }

  /**
   * The maker moves its ladder on one side by `delta` ticks in one event: a price Modify per order of the top two
   * levels (best first, so queue order is kept), deeper orders moved or pulled (re-added later by ordinary adds);
   * an order that would lock or cross the other side is cancelled instead.
   */
  private shiftSide(o: OptState, side: BookSide, delta: number): void {
    const book = o.book
    const orders = this.scratch
    orders.length = 0
    const levels = book.sides[side]
    const topEnd = levels.length > 1 ? levels[1]!.ticks : Infinity
    for (const level of levels) for (const order of level.orders) orders.push(order)
    const sideByte = side === BID ? Side.BID : Side.ASK
    for (const order of orders) {
      const ticks = order.ticks + delta
      const deep = side === BID ? order.ticks < topEnd : order.ticks > topEnd
      if (ticks < 1 || !book.canRest(side, ticks) || (deep && this.rng.chance(0.6))) {
        this.push(o, Action.CANCEL, sideByte, order.id, order.ticks, order.size, 0)
        book.remove(order)
      } else {
        this.push(o, Action.MODIFY, sideByte, order.id, ticks, order.size, 0)
        book.modify(order, ticks, order.size)
        order.seq = this.seq
      }
    }
    this.close(LAST)
  }

  /** Moves an order to `ticks` with a price Modify, or cancels it when that price would lock or cross the book. */
  private reprice(o: OptState, order: Order, ticks: number): void {
    if (ticks < 1 || ticks === order.ticks || !o.book.canRest(order.side, ticks)) return this.cancel(o, order)
    this.push(o, Action.MODIFY, order.side === BID ? Side.BID : Side.ASK, order.id, ticks, order.size, 0)
    o.book.modify(order, ticks, order.size)
    order.seq = this.seq
    this.close(LAST)
  }

  private addAt(o: OptState, side: BookSide, ticks: number, size: number): void {
    if (ticks < 1 || !o.book.canRest(side, ticks)) {
      // nowhere safe to add: take the deepest order off instead, if there is one
      if (o.book.sides[side].length > 0) this.cancel(o, this.deepest(o.book, side))
      return
    }
    const order = this.newOrder(side, ticks, size)
    this.push(o, Action.ADD, side === BID ? Side.BID : Side.ASK, order.id, ticks, size, 0)
    o.book.add(order)
    this.close(LAST)
  }

  private cancel(o: OptState, order: Order): void {
    this.push(o, Action.CANCEL, order.side === BID ? Side.BID : Side.ASK, order.id, order.ticks, order.size, 0)
    o.book.remove(order)
    this.close(LAST)
  }

  private partialCancel(o: OptState, order: Order, qty: number): void {
    this.push(o, Action.CANCEL, order.side === BID ? Side.BID : Side.ASK, order.id, order.ticks, qty, 0)
    order.seq = this.seq
    o.book.reduce(order, qty)
    this.close(LAST)
  }

  /** After a trade, the maker restores its missing levels in one multi-record event. */
  private refill(o: OptState): void {
    const q = this.quote(o)
    const book = o.book
    let added = 0
    for (const side of [BID, ASK] as const) {
      for (let k = 0; k < this.params.levelsPerSide; k++) {
        const ticks = this.levelPrice(q, side, k)
        if (ticks < 1 || book.levelSize(side, ticks) > 0 || !book.canRest(side, ticks)) continue
        const order = this.newOrder(side, ticks, this.mmSize(k))
        this.push(o, Action.ADD, side === BID ? Side.BID : Side.ASK, order.id, ticks, order.size, 0)
        book.add(order)
        added++
      }
    }
    if (added > 0) this.close(LAST)
  }

  /** A mid-session Clear of one book followed by the same orders re-added in priority order (one event). */
  private clearAndReadd(o: OptState): void {
    const orders = o.book.orders()
    this.push(o, Action.CLEAR, Side.NONE, 0, -1, 0, 0)
    o.book.clear()
    for (const order of orders) {
      this.push(o, Action.ADD, order.side === BID ? Side.BID : Side.ASK, order.id, order.ticks, order.size, 0)
      o.book.add(order)
    }
    this.close(LAST)
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Trades

  /** A small retail-sized trade; false when the book has no side to trade against. */
  private backgroundTrade(o: OptState): boolean {
    const buy = this.rng.chance(0.5)
    const book = o.book
    if (book.sides[BID].length === 0 || book.sides[ASK].length === 0) return false
    const against = book.sides[buy ? ASK : BID]
    let qty = 1 + Math.floor(this.rng.exp(2.5))
    if (qty > 60) qty = 60
    if (this.rng.chance(this.params.unattributedShare)) {
      // printed with side N, at the touch, filling only the touch level: the quote rule recovers the initiator
      const touch = against[0]!
      let available = 0
      for (const x of touch.orders) available += x.size
      this.execute(o, buy, Math.min(qty, available), touch.ticks, false, false, undefined)
      return true
    }
    const extra = this.rng.chance(0.1) ? this.rng.between(1, 2) : 0
    const limit = against[Math.min(extra, against.length - 1)]!.ticks
    this.execute(o, buy, qty, limit, true, this.rng.chance(0.25), undefined)
    return true
  }

  private episodeEvent(ep: EpisodeState): void {
    if (!ep.active) this.activate(ep)
    ep.nextAt = this.t + 1 + this.rng.exp(ep.meanGap)
    if (ep.kind === "straddle") {
      for (const leg of ep.opts) this.episodeOrder(ep, leg, ep.side === DIR_BUY)
      return
    }
    const o = ep.opts[this.rng.int(ep.opts.length)]!
    this.episodeOrder(ep, o, ep.kind === "balanced" ? this.rng.chance(0.5) : ep.side === DIR_BUY)
  }

  private episodeOrder(ep: EpisodeState, o: OptState, buy: boolean): void {
    const against = o.book.sides[buy ? ASK : BID]
    if (against.length === 0) {
      this.refill(o)
      return
    }
    let qty = Math.round(ep.medianSize * Math.exp(0.6 * this.rng.normal()))
    if (qty < 10) qty = 10
    if (qty > MAX_TRADE_VOL) qty = MAX_TRADE_VOL
    const depth = this.rng.chance(0.65) ? this.rng.between(1, 4) : 0
    const limit = against[Math.min(depth, against.length - 1)]!.ticks
    this.execute(o, buy, qty, limit, true, this.rng.chance(0.35), ep)
  }

  /**
   * Matches an aggressive order against the book and emits the GLBX pattern: per price level one T (aggressor
   * side, the aggressor's order id) followed by one F per resting order filled (its side), then a C per filled
   * order (size = filled quantity; a partial fill is a C or an M to the remaining size), optionally an Add of the
   * unfilled remainder, F_LAST on the last record. Side-`N` prints use order id 0 and F side `N`.
   */
  private execute(
    o: OptState,
    buy: boolean,
    qty: number,
    limit: number,
    attributed: boolean,
    restRemainder: boolean,
    ep: EpisodeState | undefined
  ): void {
    const book = o.book
    const levels = book.sides[buy ? ASK : BID]
    const fillOrders = this.fillOrders
    const fillQty = this.fillQty
    const levelFills = this.levelFills
    fillOrders.length = 0
    fillQty.length = 0
    levelFills.length = 0
    const aggressorId = attributed ? this.newOrderId() : 0
    const tSide = attributed ? (buy ? Side.BID : Side.ASK) : Side.NONE
    const restingSide = buy ? Side.ASK : Side.BID
    const fSide = attributed ? restingSide : Side.NONE
    const direction = buy ? DIR_BUY : DIR_SELL
    const rule = attributed ? RULE_AGGRESSOR : RULE_QUOTE
    let remaining = qty
    let traded = 0
    let levelCount = 0
    for (let li = 0; li < levels.length && remaining > 0; li++) {
      const level = levels[li]!
      if (buy ? level.ticks > limit : level.ticks < limit) break
      const first = fillOrders.length
      let atLevel = 0
      for (let k = 0; k < level.orders.length && remaining > 0; k++) {
        const order = level.orders[k]!
        const q = order.size < remaining ? order.size : remaining
        fillOrders.push(order)
        fillQty.push(q)
        remaining -= q
        atLevel += q
      }
      this.push(o, Action.TRADE, tSide, aggressorId, level.ticks, atLevel, 0)
      for (let k = first; k < fillOrders.length; k++) {
        this.push(o, Action.FILL, fSide, fillOrders[k]!.id, level.ticks, fillQty[k]!, 0)
      }
      levelFills.push(level.ticks, atLevel)
      traded += atLevel
      levelCount++
    }
    for (let k = 0; k < fillOrders.length; k++) {
      const order = fillOrders[k]!
      const q = fillQty[k]!
      order.seq = this.seq
      if (q < order.size && this.rng.chance(0.5)) {
        this.push(o, Action.MODIFY, restingSide, order.id, order.ticks, order.size - q, 0)
        book.modify(order, order.ticks, order.size - q)
      } else {
        this.push(o, Action.CANCEL, restingSide, order.id, order.ticks, q, 0)
        book.reduce(order, q)
      }
    }
    if (remaining > 0 && restRemainder && attributed && book.canRest(buy ? BID : ASK, limit)) {
      const rest = makeOrder(aggressorId, buy ? BID : ASK, limit, remaining, this.seq)
      this.push(o, Action.ADD, buy ? Side.BID : Side.ASK, aggressorId, limit, remaining, 0)
      book.add(rest)
    }
    this.close(LAST)

    for (let i = 0; i < levelFills.length; i += 2) {
      const price = levelFills[i]! * TICK
      const size = levelFills[i + 1]!
      this.windows.add(o.option, this.t, price, size, direction, rule, MULTIPLIER)
      if (this.params.collectTrades) {
        this.tape.push(this.t, o.option.instrumentId, price, size, tSide, direction, rule, ep?.id ?? -1, this.seq)
      }
      if (ep !== undefined) {
        ep.trades++
        ep.totalSize += size
        ep.premium += (price / FIXED_PRICE_SCALE) * size * MULTIPLIER
      }
    }
    if (ep !== undefined) {
      ep.orders++
      if (levelCount > 1) ep.sweeps++
      if (traded > 0) {
        if (ep.firstTrade < 0) ep.firstTrade = this.t
        ep.lastTrade = this.t
      }
    }
    this.refills.push({ due: this.t + 200_000 + this.rng.exp(20_000_000), opt: o })
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Episodes and clears

  private planEpisodes(): void {
    const d = this.params.durationNs
    const n = this.chain.expiries.length
    for (let id = 0; id < this.params.episodes; id++) {
      const startOff = d * (0.04 + 0.8 * this.rng.next())
      const length = Math.min(d * 0.15, (3 + this.rng.next() * 12) * 60 * NS)
      const endOff = Math.min(d - 1, startOff + Math.max(length, 30 * NS))
      const orders = this.rng.between(this.params.episodeOrders[0], this.params.episodeOrders[1])
      // nearer expirations attract more of the flow
      const expiryIndex = Math.min(n - 1, Math.floor(this.rng.next() * this.rng.next() * n))
      this.episodes.push({
        id,
        kind: "flow",
        startOff,
        endOff,
        side: this.rng.chance(0.5) ? DIR_BUY : DIR_SELL,
        expiryIndex,
        isCall: this.rng.chance(0.5),
        meanGap: (endOff - startOff) / orders,
        medianSize: this.rng.between(this.params.episodeSize[0], this.params.episodeSize[1]),
        opts: [],
        nextAt: startOff,
        active: false,
        totalSize: 0,
        trades: 0,
        orders: 0,
        sweeps: 0,
        premium: 0,
        firstTrade: -1,
        lastTrade: -1
      })
    }
  }

  private planDecoys(): void {
    const d = this.params.durationNs
    const n = this.chain.expiries.length
    for (let k = 0; k < this.params.decoys; k++) {
      const startOff = d * (0.04 + 0.8 * this.rng.next())
      const length = Math.min(d * 0.15, (3 + this.rng.next() * 12) * 60 * NS)
      const endOff = Math.min(d - 1, startOff + Math.max(length, 30 * NS))
      const orders = this.rng.between(this.params.episodeOrders[0], this.params.episodeOrders[1])
      this.episodes.push({
        id: DECOY_ID_BASE + k,
        kind: k % 2 === 0 ? "balanced" : "straddle",
        startOff,
        endOff,
        side: this.rng.chance(0.5) ? DIR_BUY : DIR_SELL,
        expiryIndex: Math.min(n - 1, Math.floor(this.rng.next() * this.rng.next() * n)),
        isCall: this.rng.chance(0.5),
        meanGap: (endOff - startOff) / orders,
        medianSize: this.rng.between(this.params.episodeSize[0], this.params.episodeSize[1]),
        opts: [],
        nextAt: startOff,
        active: false,
        totalSize: 0,
        trades: 0,
        orders: 0,
        sweeps: 0,
        premium: 0,
        firstTrade: -1,
        lastTrade: -1
      })
    }
  }

  /** Picks the episode's strikes when it starts: 1–3 adjacent strikes at or out of the money at that moment. */
  private activate(ep: EpisodeState): void {
    ep.active = true
    if (ep.kind === "straddle") {
      // a straddle trades the call and the put of the strike nearest the money
      const legs = this.opts.filter((o) => o.option.expiry.index === ep.expiryIndex)
      let best = legs[0]!
      for (const o of legs) if (Math.abs(o.option.strike - this.spot) < Math.abs(best.option.strike - this.spot)) best = o
      ep.opts = legs.filter((o) => o.option.strike === best.option.strike)
      return
    }
    const candidates = this.opts.filter((o) => o.option.expiry.index === ep.expiryIndex && o.isCall === ep.isCall)
    const strikes = candidates.map((o) => o.option.strike)
    let atm = 0
    for (let i = 1; i < strikes.length; i++) {
      if (Math.abs(strikes[i]! - this.spot) < Math.abs(strikes[atm]! - this.spot)) atm = i
    }
    const away = this.rng.between(0, 4)
    const count = this.rng.between(1, 3)
    let first = ep.isCall ? atm + away : atm - away - (count - 1)
    first = Math.max(0, Math.min(candidates.length - count, first))
    ep.opts = candidates.slice(first, Math.max(first + 1, first + count))
  }

  private planClears(): void {
    const d = this.params.durationNs
    for (let i = 0; i < this.params.clears; i++) this.clearTimes.push(d * (0.02 + 0.96 * this.rng.next()))
    // popped from the end, so keep the latest first
    this.clearTimes.sort((a, b) => b - a)
  }

  /** Episode truths, once the session is over. */
  episodeTruths(): Array<EpisodeTruth> {
    return this.truths(this.episodes.filter((e) => e.kind === "flow"))
  }

  /** Decoy truths, once the session is over (`optionType` is the first leg's; a straddle has both). */
  decoyTruths(): Array<DecoyTruth> {
    const decoys = this.episodes.filter((e) => e.kind !== "flow")
    return this.truths(decoys).map((t, i) => ({ ...t, kind: decoys[i]!.kind as "balanced" | "straddle" }))
  }

  private truths(episodes: ReadonlyArray<EpisodeState>): Array<EpisodeTruth> {
    const start = this.params.startNs
    return episodes.map((e) => {
      const opts = e.opts.length > 0 ? e.opts : []
      const expiry = this.chain.expiries[e.expiryIndex]!
      return {
        id: e.id,
        startNs: start + BigInt(Math.floor(e.startOff)),
        endNs: start + BigInt(Math.floor(e.endOff)),
        firstTradeNs: e.firstTrade < 0 ? undefined : start + BigInt(e.firstTrade),
        lastTradeNs: e.lastTrade < 0 ? undefined : start + BigInt(e.lastTrade),
        expiration: expiry.expiration,
        instrumentIds: opts.map((o) => o.option.instrumentId),
        strikes: opts.map((o) => o.option.strike),
        optionType: e.opts.length > 0 ? e.opts[0]!.option.optionType : e.isCall ? "C" : "P",
        side: e.side === DIR_BUY ? "BUY" : "SELL",
        totalSize: e.totalSize,
        trades: e.trades,
        orders: e.orders,
        sweeps: e.sweeps,
        premium: e.premium
      }
    })
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Instrument choice

  private updateWeights(): void {
    this.weightsAt = this.t
    let sum = 0
    const options = this.chain.options
    const spacing = options.length > 2 ? Math.abs(options[2]!.strike - options[0]!.strike) || 50 : 50
    for (let i = 0; i < this.opts.length; i++) {
      const o = this.opts[i]!
      const z = (o.option.strike - this.spot) / (spacing * 8)
      sum += Math.exp(-0.5 * z * z) / (1 + 0.6 * o.option.expiry.index) + 0.03
      this.cumWeights[i] = sum
    }
  }

  private pickOption(): OptState {
    const w = this.cumWeights
    const x = this.rng.next() * w[w.length - 1]!
    let lo = 0
    let hi = w.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (w[mid]! <= x) lo = mid + 1
      else hi = mid
    }
    return this.opts[lo]!
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Records

  private newOrderId(): number {
    this.nextOrderId += 1 + (this.rng.u32() & 7)
    return this.nextOrderId
  }

  private newOrder(side: BookSide, ticks: number, size: number): Order {
    const id = this.newOrderId()
    return makeOrder(id, side, ticks, size, this.seq)
  }

  /** Queues a record; the previous queued one is written with its own flags. */
  private push(
    o: OptState,
    action: number,
    side: number,
    orderId: number,
    ticks: number,
    size: number,
    flags: number
  ): void {
    this.flushPending()
    this.pendingOpt = o
    this.pendingAction = action
    this.pendingSide = side
    this.pendingId = orderId
    this.pendingPrice = ticks < 0 ? NaN : ticks * TICK
    this.pendingSize = size
    this.pendingFlags = flags
  }

  private flushPending(): void {
    const o = this.pendingOpt
    if (o === undefined) return
    this.out.mbo(
      o.option.instrumentId,
      o.option.expiry.channel,
      this.pendingId,
      this.pendingPrice,
      this.pendingSize,
      this.pendingFlags,
      this.pendingAction,
      this.pendingSide
    )
    this.pendingOpt = undefined
    this.liveRecords++
  }

  /** Writes the event's last record with `flags` (F_LAST set by the caller). */
  private close(flags: number): void {
    this.pendingFlags = flags
    this.flushPending()
  }
}
