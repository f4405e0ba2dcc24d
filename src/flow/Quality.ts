/**
 * Data-quality findings of the flow pipeline: records flagged for review (never dropped), their reasons, and the
 * plausibility tests behind them. The shape matches what `store/FlaggedRepo` persists.
 */

/** Why a record was flagged. */
export type FlagReason =
  /** A trade outside the quotes and further from the mid than the configured fraction of it. */
  | "PriceOutsideBand"
  /** A trade larger than the instrument's max order quantity. */
  | "SizeOverMax"
  /** A trade with an undefined or non-positive price. */
  | "BadTradePrice"
  /** A trade no rule could give a direction to. */
  | "UndecidedDirection"
  /** A trade whose window had already closed when it arrived (left out of the windows). */
  | "LateTrade"
  /** ts_event later than ts_recv by more than the configured tolerance (ts_recv was used). */
  | "TsEventAhead"
  /** Book anomalies (see book/Book.ts Outcome). */
  | "DuplicateAdd"
  | "CancelUnknownOrder"
  | "ModifyUnknownOrder"
  | "OverCancel"
  | "BadSide"
  | "BadOrder"
  | "SideChange"

/** One MBO record flagged for review. */
export interface FlaggedRecord {
  /** The record's ts_event as sent, ns since epoch (u64::MAX when it was undefined). */
  readonly tsEvent: bigint
  readonly instrumentId: number
  /** order_id (u64); 0 when the record has none. */
  readonly orderId: bigint
  /** Venue sequence number. */
  readonly sequence: number
  readonly reason: FlagReason
  /** Short safe text with the values that made the record suspect (prices in points). */
  readonly detail: string
}

/**
 * True when a trade is implausibly far from a two-sided, uncrossed book: outside [bid, ask] and more than
 * `band` × mid away from the mid. A trade at or inside the quotes is never flagged (wide markets in cheap options).
 * Prices in any common unit; NaN quotes (empty side) → false.
 */
export const outsideBand = (price: number, bid: number, ask: number, band: number): boolean => {
  if (!(bid < ask) || (price >= bid && price <= ask)) return false
  const mid = (bid + ask) / 2
  return Math.abs(price - mid) > band * mid
}

/** Decimal text of a 1e-9 price held in a double, for `detail` (not for arithmetic). */
export const points = (raw: number): string => (raw === raw ? String(raw / 1e9) : "UNDEF")
