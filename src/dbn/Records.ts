/**
 * Plain-object shapes of DBN records, named exactly as the spec (and Databento's `dbn --json`) names them.
 * Every version is surfaced in the current (v3) shape. 64-bit integers are `bigint`.
 * shared/spec/databento.md §3, §5.
 */

/** The 16-byte record header. */
export interface RecordHeader {
  /** Record length in bytes (the wire value × 4). */
  readonly length: number
  readonly rtype: number
  readonly publisher_id: number
  readonly instrument_id: number
  /** ns since epoch. */
  readonly ts_event: bigint
}

interface Base {
  readonly hd: RecordHeader
  /** Gateway send time (ns), when the stream carries the ts_out suffix. */
  readonly ts_out?: bigint
}

export interface MboMsg extends Base {
  readonly _tag: "mbo"
  readonly order_id: bigint
  /** 1e-9 units; UNDEF_PRICE when null. */
  readonly price: bigint
  readonly size: number
  readonly flags: number
  readonly channel_id: number
  /** One-letter string: A C M R T F N. */
  readonly action: string
  /** One-letter string: A B N. */
  readonly side: string
  readonly ts_recv: bigint
  readonly ts_in_delta: number
  readonly sequence: number
}

export interface BidAskPair {
  readonly bid_px: bigint
  readonly ask_px: bigint
  readonly bid_sz: number
  readonly ask_sz: number
  readonly bid_ct: number
  readonly ask_ct: number
}

/** TradeMsg (rtype 0x00) and Mbp1Msg (0x01, with `levels`). */
export interface TradeMsg extends Base {
  readonly _tag: "trade"
  readonly price: bigint
  readonly size: number
  readonly action: string
  readonly side: string
  readonly flags: number
  readonly depth: number
  readonly ts_recv: bigint
  readonly ts_in_delta: number
  readonly sequence: number
}

export interface Mbp1Msg extends Omit<TradeMsg, "_tag"> {
  readonly _tag: "mbp1"
  readonly levels: readonly [BidAskPair]
}

/** Mbp10Msg (0x0A): the trade prefix plus ten book levels. */
export interface Mbp10Msg extends Omit<TradeMsg, "_tag"> {
  readonly _tag: "mbp10"
  readonly levels: ReadonlyArray<BidAskPair>
}

/** OhlcvMsg (0x11, 0x20–0x24; `hd.rtype` says which interval). Prices 1e-9 units. */
export interface OhlcvMsg extends Base {
  readonly _tag: "ohlcv"
  readonly open: bigint
  readonly high: bigint
  readonly low: bigint
  readonly close: bigint
  readonly volume: bigint
}

/** StatusMsg (0x12): trading status of an instrument. */
export interface StatusMsg extends Base {
  readonly _tag: "status"
  readonly ts_recv: bigint
  readonly action: number
  readonly reason: number
  readonly trading_event: number
  /** One-letter strings: Y, N or ~ (empty for NUL). */
  readonly is_trading: string
  readonly is_quoting: string
  readonly is_short_sell_restricted: string
}

export interface StatMsg extends Base {
  readonly _tag: "stat"
  readonly ts_recv: bigint
  readonly ts_ref: bigint
  readonly price: bigint
  /** i64 in the v3 shape; v1/v2 UNDEF (i32::MAX) is widened to the v3 UNDEF (i64::MAX). */
  readonly quantity: bigint
  readonly sequence: number
  readonly ts_in_delta: number
  readonly stat_type: number
  readonly channel_id: number
  readonly update_action: number
  readonly stat_flags: number
}

export interface SymbolMappingMsg extends Base {
  readonly _tag: "symbolMapping"
  /** 255 (unknown) for v1, which has no stype fields. */
  readonly stype_in: number
  readonly stype_in_symbol: string
  readonly stype_out: number
  readonly stype_out_symbol: string
  readonly start_ts: bigint
  readonly end_ts: bigint
}

export interface SystemMsg extends Base {
  readonly _tag: "system"
  readonly msg: string
  /** v2+ code; for v1 derived from the text (heartbeat → 0), else 255. */
  readonly code: number
  /** True for heartbeats in every version. */
  readonly isHeartbeat: boolean
}

export interface ErrorMsg extends Base {
  readonly _tag: "error"
  readonly err: string
  readonly code: number
  readonly is_last: number
}

/** InstrumentDefMsg in its v3 shape; fields absent from the source version take their null value. */
export interface InstrumentDefMsg extends Base {
  readonly _tag: "definition"
  readonly ts_recv: bigint
  readonly min_price_increment: bigint
  readonly display_factor: bigint
  readonly expiration: bigint
  readonly activation: bigint
  readonly high_limit_price: bigint
  readonly low_limit_price: bigint
  readonly max_price_variation: bigint
  readonly unit_of_measure_qty: bigint
  readonly min_price_increment_amount: bigint
  readonly price_ratio: bigint
  readonly strike_price: bigint
  readonly raw_instrument_id: bigint
  readonly leg_price: bigint
  readonly leg_delta: bigint
  readonly inst_attrib_value: number
  readonly underlying_id: number
  readonly market_depth_implied: number
  readonly market_depth: number
  readonly market_segment_id: number
  readonly max_trade_vol: number
  readonly min_lot_size: number
  readonly min_lot_size_block: number
  readonly min_lot_size_round_lot: number
  readonly min_trade_vol: number
  readonly contract_multiplier: number
  readonly decay_quantity: number
  readonly original_contract_size: number
  readonly leg_instrument_id: number
  readonly leg_ratio_price_numerator: number
  readonly leg_ratio_price_denominator: number
  readonly leg_ratio_qty_numerator: number
  readonly leg_ratio_qty_denominator: number
  readonly leg_underlying_id: number
  readonly appl_id: number
  readonly maturity_year: number
  readonly decay_start_date: number
  readonly channel_id: number
  readonly leg_count: number
  readonly leg_index: number
  readonly currency: string
  readonly settl_currency: string
  readonly secsubtype: string
  readonly raw_symbol: string
  readonly group: string
  readonly exchange: string
  readonly asset: string
  readonly cfi: string
  readonly security_type: string
  readonly unit_of_measure: string
  readonly underlying: string
  readonly strike_price_currency: string
  readonly leg_raw_symbol: string
  readonly instrument_class: string
  readonly match_algorithm: string
  readonly main_fraction: number
  readonly price_display_format: number
  readonly sub_fraction: number
  readonly underlying_product: number
  readonly security_update_action: string
  readonly maturity_month: number
  readonly maturity_day: number
  readonly maturity_week: number
  readonly user_defined_instrument: string
  readonly contract_multiplier_unit: number
  readonly flow_schedule_type: number
  readonly tick_rule: number
  readonly leg_instrument_class: string
  readonly leg_side: string
}

/** Any record other than MBO, which travels in `MboBatch` columns. */
export type DbnRecord =
  | TradeMsg
  | Mbp1Msg
  | Mbp10Msg
  | OhlcvMsg
  | StatusMsg
  | StatMsg
  | SymbolMappingMsg
  | SystemMsg
  | ErrorMsg
  | InstrumentDefMsg
