/**
 * Data-quality findings of the flow pipeline: records flagged for review (never dropped), their reasons, and the
 * plausibility tests behind them. The shape matches what `store/FlaggedRepo` persists.
 */

/** Why a record was flagged. */
export type FlagReason =
  /** A trade further outside the quotes than the configured allowance (see `outsideBand`). */
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
 * True when a trade is implausibly far from a two-sided, uncrossed book: below bid − allowance or above
 * ask + allowance, where allowance = max(`band` × mid, `floor`). Measured from the touch, so a sweep a level or two
 * through a wide, cheap option market is not flagged; the floor keeps options quoted at a few ticks from flagging
 * on every sweep. Prices in one common unit (the engine uses 1e-9); NaN quotes (an empty side) → false.
 */
export const outsideBand = (price: number, bid: number, ask: number, band: number, floor: number): boolean => {
  if (!(bid < ask)) return false
  const allowance = Math.max(band * ((bid + ask) / 2), floor)
  return price < bid - allowance || price > ask + allowance
}

/** Decimal text of a 1e-9 price held in a double, for `detail` (not for arithmetic). */
export const points = (raw: number): string => (raw === raw ? String(raw / 1e9) : "UNDEF")
