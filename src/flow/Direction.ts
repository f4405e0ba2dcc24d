/**
 * Who initiated each trade: the exchange's aggressor side first, else the quote rule against the book at that
 * moment, else the tick rule against the instrument's previous trade. shared/spec/databento.md §4 (Side), §7
 * (T side = aggressor; `N` on auction prints).
 */
import { Side } from "../dbn/Constants.js"

/** Trade direction codes (also the `side` column of a TradeBatch). */
export const Dir = { UNKNOWN: 0, BUY: 1, SELL: 2 } as const
/** Deciding-rule codes (also the `rule` column of a TradeBatch). */
export const Rule = { NONE: 0, AGGRESSOR: 1, QUOTE: 2, TICK: 3 } as const

export const DIR_NAMES = ["UNKNOWN", "BUY", "SELL"] as const
export const RULE_NAMES = ["none", "aggressor", "quote", "tick"] as const

/** Per-instrument memory of the tick rule. Any object with these fields will do (the engine keeps it per slot). */
export interface TickState {
  /** Price of the instrument's previous trade, 1e-9 units; NaN before the first. */
  lastPrice: number
  /** Direction of the most recent trade whose direction was decided (Dir), 0 before the first. */
  lastDirection: number
}

export const newTickState = (): TickState => ({ lastPrice: NaN, lastDirection: Dir.UNKNOWN })

/** Packed result of `classify`: direction in bits 0–1, rule in bits 2–3. */
export const directionOf = (code: number): number => code & 3
export const ruleOf = (code: number): number => code >>> 2

/**
 * Classifies one trade and updates `state`. Returns `direction | rule << 2`.
 * - side `B` → BUY, `A` → SELL (rule aggressor);
 * - side `N`: price ≥ best ask → BUY, ≤ best bid → SELL (rule quote) when exactly one of the two holds;
 * - otherwise (strictly inside the spread, or the book can not say: a side empty, crossed or locked) the tick rule:
 *   above the previous trade → BUY, below → SELL, equal → the previous decided direction (rule tick);
 * - otherwise UNKNOWN (rule none): no previous trade, or an undefined price.
 * @param side DBN side byte of the T record
 * @param price 1e-9 units (NaN when undefined)
 * @param bid best bid, 1e-9 units, NaN when the bid side is empty
 * @param ask best ask, 1e-9 units, NaN when the ask side is empty
 */
export const classify = (state: TickState, side: number, price: number, bid: number, ask: number): number => {
  let dir: number = Dir.UNKNOWN
  let rule: number = Rule.NONE
  if (side === Side.BID) {
    dir = Dir.BUY
    rule = Rule.AGGRESSOR
  } else if (side === Side.ASK) {
    dir = Dir.SELL
    rule = Rule.AGGRESSOR
  } else if (price === price) {
    // NaN quotes compare false, so an empty side never decides.
    const atAsk = price >= ask
    const atBid = price <= bid
    if (atAsk !== atBid) {
      dir = atAsk ? Dir.BUY : Dir.SELL
      rule = Rule.QUOTE
    } else {
      const last = state.lastPrice
      if (price > last) dir = Dir.BUY
      else if (price < last) dir = Dir.SELL
      else if (price === last) dir = state.lastDirection
      if (dir !== Dir.UNKNOWN) rule = Rule.TICK
    }
  }
  if (price === price) state.lastPrice = price
  if (dir !== Dir.UNKNOWN) state.lastDirection = dir
  return dir | (rule << 2)
}

/** A stand-alone classifier keeping tick state per instrument (the engine keeps its own per slot). */
export class Classifier {
  private readonly states = new Map<number, TickState>()
  /** Trades decided by each rule, indexed by Rule. */
  readonly byRule = [0, 0, 0, 0]

  /** Classifies one trade of `instrumentId` against the given best quotes (1e-9 units, NaN when empty). */
  classify(instrumentId: number, side: number, price: number, bid: number, ask: number): number {
    let s = this.states.get(instrumentId)
    if (s === undefined) {
      s = newTickState()
      this.states.set(instrumentId, s)
    }
    const code = classify(s, side, price, bid, ask)
    this.byRule[code >>> 2]++
    return code
  }
}
