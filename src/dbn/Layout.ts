/**
 * Byte layouts of DBN records per rtype × version: record sizes and field offsets from the record start.
 * The decoder and encoder read every offset from here. shared/spec/databento.md §3, §5.
 */
import { RType } from "./Constants.js"

/** Size of the record header in bytes. */
export const HEADER_SIZE = 16
/** Size of the ts_out suffix in bytes (appended after the record body when metadata.ts_out). */
export const TS_OUT_SIZE = 8
/** Largest record on the wire: a v3 definition with ts_out (the length byte allows 1020). */
export const MAX_RECORD_SIZE = 255 * 4

/** RecordHeader offsets (§3). */
export const Header = {
  length: 0,
  rtype: 1,
  publisherId: 2,
  instrumentId: 4,
  tsEvent: 8
} as const

/** MboMsg, 56 bytes in every version (§5.1). */
export const Mbo = {
  size: 56,
  orderId: 16,
  price: 24,
  size_: 32,
  flags: 36,
  channelId: 37,
  action: 38,
  side: 39,
  tsRecv: 40,
  tsInDelta: 48,
  sequence: 52
} as const

/** TradeMsg (48 bytes), Mbp1Msg (80) and Mbp10Msg (368) share this prefix (§5.2). */
export const Trade = {
  size: 48,
  price: 16,
  size_: 24,
  action: 28,
  side: 29,
  flags: 30,
  depth: 31,
  tsRecv: 32,
  tsInDelta: 40,
  sequence: 44,
  /** First BidAskPair (Mbp1/Mbp10 only). */
  levels: 48
} as const

export const MBP1_SIZE = 80
export const MBP10_SIZE = 368

/** BidAskPair, 32 bytes, offsets inside one level. */
export const BidAsk = {
  size: 32,
  bidPx: 0,
  askPx: 8,
  bidSz: 16,
  askSz: 20,
  bidCt: 24,
  askCt: 28
} as const

/** OhlcvMsg, 56 bytes (§5.3). */
export const Ohlcv = { size: 56, open: 16, high: 24, low: 32, close: 40, volume: 48 } as const

/** StatusMsg, 40 bytes (§5.3). */
export const Status = {
  size: 40,
  tsRecv: 16,
  action: 24,
  reason: 26,
  tradingEvent: 28,
  isTrading: 30,
  isQuoting: 31,
  isShortSellRestricted: 32
} as const

/** StatMsg: v1/v2 64 bytes with an i32 quantity, v3 80 bytes with an i64 quantity (§5.4). */
export const StatV1 = {
  size: 64,
  tsRecv: 16,
  tsRef: 24,
  price: 32,
  quantity: 40,
  sequence: 44,
  tsInDelta: 48,
  statType: 52,
  channelId: 54,
  updateAction: 56,
  statFlags: 57
} as const

export const StatV3 = {
  size: 80,
  tsRecv: 16,
  tsRef: 24,
  price: 32,
  quantity: 40,
  sequence: 48,
  tsInDelta: 52,
  statType: 56,
  channelId: 58,
  updateAction: 60,
  statFlags: 61
} as const

/** SymbolMappingMsg v1: 80 bytes, no stype fields, 22-byte symbols (§5.5). */
export const SymbolMappingV1 = {
  size: 80,
  stypeInSymbol: 16,
  stypeOutSymbol: 38,
  symbolLen: 22,
  startTs: 64,
  endTs: 72
} as const

/** SymbolMappingMsg v2/v3: 176 bytes, 71-byte symbols (§5.5). */
export const SymbolMappingV2 = {
  size: 176,
  stypeIn: 16,
  stypeInSymbol: 17,
  stypeOut: 88,
  stypeOutSymbol: 89,
  symbolLen: 71,
  startTs: 160,
  endTs: 168
} as const

/** SystemMsg (§5.6): v1 80 bytes of text; v2+ 320 bytes with a code. */
export const SystemV1 = { size: 80, msg: 16, msgLen: 64 } as const
export const SystemV2 = { size: 320, msg: 16, msgLen: 303, code: 319 } as const

/** ErrorMsg (§5.6): v1 80 bytes of text; v2+ 320 bytes with code and is_last. */
export const ErrorV1 = { size: 80, err: 16, errLen: 64 } as const
export const ErrorV2 = { size: 320, err: 16, errLen: 302, code: 318, isLast: 319 } as const

/** Wire types of definition fields. `char` is one ASCII byte; `str` a NUL-padded fixed-width string. */
export type WireType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "char" | "str"

export interface FieldSpec {
  /** Field name in the v3 shape (`InstrumentDefMsg` of Records.ts). */
  readonly name: string
  readonly type: WireType
  /** Offset from the record start, bytes. */
  readonly offset: number
  /** Bytes on the wire (string width for `str`). */
  readonly width: number
}

export interface RecordLayout {
  /** Record size in bytes without ts_out. */
  readonly size: number
  readonly fields: ReadonlyArray<FieldSpec>
}

const WIDTH: Record<Exclude<WireType, "str">, number> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  u64: 8,
  i64: 8,
  char: 1
}

type Col = readonly [type: WireType, offset: number, width?: number] | null

/**
 * InstrumentDefMsg fields of the v3 shape with their type/offset in v1, v2, v3 (§5.7); `null` = absent in that
 * version (the decoder fills the v3 default). v1/v2-only fields (trading_reference_price/date, settl_price_type,
 * md_security_trading_status) are dropped, as in Databento's own v3 upgrade.
 */
const DEFINITION_TABLE: ReadonlyArray<readonly [name: string, v1: Col, v2: Col, v3: Col]> = [
  ["ts_recv", ["u64", 16], ["u64", 16], ["u64", 16]],
  ["min_price_increment", ["i64", 24], ["i64", 24], ["i64", 24]],
  ["display_factor", ["i64", 32], ["i64", 32], ["i64", 32]],
  ["expiration", ["u64", 40], ["u64", 40], ["u64", 40]],
  ["activation", ["u64", 48], ["u64", 48], ["u64", 48]],
  ["high_limit_price", ["i64", 56], ["i64", 56], ["i64", 56]],
  ["low_limit_price", ["i64", 64], ["i64", 64], ["i64", 64]],
  ["max_price_variation", ["i64", 72], ["i64", 72], ["i64", 72]],
  ["unit_of_measure_qty", ["i64", 88], ["i64", 88], ["i64", 80]],
  ["min_price_increment_amount", ["i64", 96], ["i64", 96], ["i64", 88]],
  ["price_ratio", ["i64", 104], ["i64", 104], ["i64", 96]],
  ["strike_price", ["i64", 328], ["i64", 112], ["i64", 104]],
  ["raw_instrument_id", ["u32", 120], ["u32", 128], ["u64", 112]],
  ["leg_price", null, null, ["i64", 120]],
  ["leg_delta", null, null, ["i64", 128]],
  ["inst_attrib_value", ["i32", 112], ["i32", 120], ["i32", 136]],
  ["underlying_id", ["u32", 116], ["u32", 124], ["u32", 140]],
  ["market_depth_implied", ["i32", 124], ["i32", 132], ["i32", 144]],
  ["market_depth", ["i32", 128], ["i32", 136], ["i32", 148]],
  ["market_segment_id", ["u32", 132], ["u32", 140], ["u32", 152]],
  ["max_trade_vol", ["u32", 136], ["u32", 144], ["u32", 156]],
  ["min_lot_size", ["i32", 140], ["i32", 148], ["i32", 160]],
  ["min_lot_size_block", ["i32", 144], ["i32", 152], ["i32", 164]],
  ["min_lot_size_round_lot", ["i32", 148], ["i32", 156], ["i32", 168]],
  ["min_trade_vol", ["u32", 152], ["u32", 160], ["u32", 172]],
  ["contract_multiplier", ["i32", 160], ["i32", 164], ["i32", 176]],
  ["decay_quantity", ["i32", 164], ["i32", 168], ["i32", 180]],
  ["original_contract_size", ["i32", 168], ["i32", 172], ["i32", 184]],
  ["leg_instrument_id", null, null, ["u32", 188]],
  ["leg_ratio_price_numerator", null, null, ["i32", 192]],
  ["leg_ratio_price_denominator", null, null, ["i32", 196]],
  ["leg_ratio_qty_numerator", null, null, ["i32", 200]],
  ["leg_ratio_qty_denominator", null, null, ["i32", 204]],
  ["leg_underlying_id", null, null, ["u32", 208]],
  ["appl_id", ["i16", 178], ["i16", 178], ["i16", 212]],
  ["maturity_year", ["u16", 180], ["u16", 180], ["u16", 214]],
  ["decay_start_date", ["u16", 182], ["u16", 182], ["u16", 216]],
  ["channel_id", ["u16", 184], ["u16", 184], ["u16", 218]],
  ["leg_count", null, null, ["u16", 220]],
  ["leg_index", null, null, ["u16", 222]],
  ["currency", ["str", 186, 4], ["str", 186, 4], ["str", 224, 4]],
  ["settl_currency", ["str", 190, 4], ["str", 190, 4], ["str", 228, 4]],
  ["secsubtype", ["str", 194, 6], ["str", 194, 6], ["str", 232, 6]],
  ["raw_symbol", ["str", 200, 22], ["str", 200, 71], ["str", 238, 71]],
  ["group", ["str", 222, 21], ["str", 271, 21], ["str", 309, 21]],
  ["exchange", ["str", 243, 5], ["str", 292, 5], ["str", 330, 5]],
  ["asset", ["str", 248, 7], ["str", 297, 7], ["str", 335, 11]],
  ["cfi", ["str", 255, 7], ["str", 304, 7], ["str", 346, 7]],
  ["security_type", ["str", 262, 7], ["str", 311, 7], ["str", 353, 7]],
  ["unit_of_measure", ["str", 269, 31], ["str", 318, 31], ["str", 360, 31]],
  ["underlying", ["str", 300, 21], ["str", 349, 21], ["str", 391, 21]],
  ["strike_price_currency", ["str", 321, 4], ["str", 370, 4], ["str", 412, 4]],
  ["leg_raw_symbol", null, null, ["str", 416, 71]],
  ["instrument_class", ["char", 325], ["char", 374], ["char", 487]],
  ["match_algorithm", ["char", 342], ["char", 375], ["char", 488]],
  ["main_fraction", ["u8", 344], ["u8", 377], ["u8", 489]],
  ["price_display_format", ["u8", 345], ["u8", 378], ["u8", 490]],
  ["sub_fraction", ["u8", 347], ["u8", 380], ["u8", 491]],
  ["underlying_product", ["u8", 348], ["u8", 381], ["u8", 492]],
  ["security_update_action", ["char", 349], ["char", 382], ["char", 493]],
  ["maturity_month", ["u8", 350], ["u8", 383], ["u8", 494]],
  ["maturity_day", ["u8", 351], ["u8", 384], ["u8", 495]],
  ["maturity_week", ["u8", 352], ["u8", 385], ["u8", 496]],
  ["user_defined_instrument", ["char", 353], ["char", 386], ["char", 497]],
  ["contract_multiplier_unit", ["i8", 354], ["i8", 387], ["i8", 498]],
  ["flow_schedule_type", ["i8", 355], ["i8", 388], ["i8", 499]],
  ["tick_rule", ["u8", 356], ["u8", 389], ["u8", 500]],
  ["leg_instrument_class", null, null, ["char", 501]],
  ["leg_side", null, null, ["char", 502]]
]

const definitionLayout = (version: 1 | 2 | 3, size: number): RecordLayout => {
  const fields: Array<FieldSpec> = []
  for (const row of DEFINITION_TABLE) {
    const col = row[version]
    if (col === null) continue
    const [type, offset, width] = col
    fields.push({ name: row[0], type, offset, width: type === "str" ? width! : WIDTH[type] })
  }
  return { size, fields }
}

/** InstrumentDefMsg layouts: v1 360 bytes, v2 400, v3 520. */
export const DefinitionV1: RecordLayout = definitionLayout(1, 360)
export const DefinitionV2: RecordLayout = definitionLayout(2, 400)
export const DefinitionV3: RecordLayout = definitionLayout(3, 520)

export const definitionLayoutOf = (version: number): RecordLayout =>
  version === 1 ? DefinitionV1 : version === 2 ? DefinitionV2 : DefinitionV3

/**
 * Minimum record size in bytes (without ts_out) for an rtype in a DBN version; 0 for rtypes this codec does not
 * decode.
 */
export const recordSize = (rtype: number, version: number): number => {
  switch (rtype) {
    case RType.MBO:
      return Mbo.size
    case RType.MBP_0:
      return Trade.size
    case RType.MBP_1:
      return MBP1_SIZE
    case RType.MBP_10:
      return MBP10_SIZE
    case RType.STATUS:
      return Status.size
    case RType.OHLCV_DEPRECATED:
    case RType.OHLCV_1S:
    case RType.OHLCV_1M:
    case RType.OHLCV_1H:
    case RType.OHLCV_1D:
    case RType.OHLCV_EOD:
      return Ohlcv.size
    case RType.STATISTICS:
      return version >= 3 ? StatV3.size : StatV1.size
    case RType.SYMBOL_MAPPING:
      return version >= 2 ? SymbolMappingV2.size : SymbolMappingV1.size
    case RType.SYSTEM:
      return version >= 2 ? SystemV2.size : SystemV1.size
    case RType.ERROR:
      return version >= 2 ? ErrorV2.size : ErrorV1.size
    case RType.INSTRUMENT_DEF:
      return definitionLayoutOf(version).size
    default:
      return 0
  }
}
