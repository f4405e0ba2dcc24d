/**
 * A closed 5-minute pressure window for one (expiration, strike, option type): the unit that the
 * pipeline emits and the store persists. Times are event time (ts_event), UTC.
 */

export type DominantSide = "BUY" | "SELL" | "NEUTRAL"
export type OptionType = "C" | "P"

export interface PressureWindow {
  /** Window start, ms since epoch (UTC), aligned to a multiple of 300 000. */
  readonly windowStart: number
  /** Expiration date, YYYY-MM-DD (UTC date of the instrument's expiration timestamp). */
  readonly expiration: string
  /** Strike in price points (e.g. 21500.5). */
  readonly strike: number
  readonly optionType: OptionType
  /** SELL-initiated volume (trades that hit the bid). */
  readonly bidVolume: number
  /** BUY-initiated volume (trades that lifted the ask). */
  readonly askVolume: number
  /** Volume whose direction no rule could decide. */
  readonly unknownVolume: number
  /** ask / bid; null when bid volume is 0 (never Infinity). */
  readonly pressureRatio: number | null
  /** Number of Trade records. */
  readonly totalTrades: number
  /** Total volume / total trades (0 when there are no trades). */
  readonly avgTradeSize: number
  readonly dominantSide: DominantSide
  /** Trades decided by each rule. */
  readonly tradesAggressor: number
  readonly tradesQuote: number
  readonly tradesTick: number
  readonly tradesNone: number
  /** Σ price (points) × size × contract multiplier, in currency units. */
  readonly premium: number
  /** Largest single trade size in the window. */
  readonly maxTradeSize: number
}

export const WINDOW_MS = 300_000
