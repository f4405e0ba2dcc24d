/**
 * DBN constants: rtypes, sentinels, enum bytes and flags.
 * shared/spec/databento.md §1, §3, §4.
 */

/** Fixed-point price scale: 1 unit = 1e-9. */
export const FIXED_PRICE_SCALE = 1_000_000_000
/** `i64::MAX`, the null price. */
export const UNDEF_PRICE = 9223372036854775807n
export const UNDEF_ORDER_SIZE = 4294967295
export const UNDEF_TIMESTAMP = 18446744073709551615n
export const UNDEF_STAT_QUANTITY_V2 = 2147483647
export const UNDEF_STAT_QUANTITY_V3 = 9223372036854775807n

/** Current (newest) DBN version; the encoder writes this. */
export const DBN_VERSION = 3

export const RType = {
  MBP_0: 0x00,
  MBP_1: 0x01,
  MBP_10: 0x0a,
  OHLCV_DEPRECATED: 0x11,
  STATUS: 0x12,
  INSTRUMENT_DEF: 0x13,
  IMBALANCE: 0x14,
  ERROR: 0x15,
  SYMBOL_MAPPING: 0x16,
  SYSTEM: 0x17,
  STATISTICS: 0x18,
  OHLCV_1S: 0x20,
  OHLCV_1M: 0x21,
  OHLCV_1H: 0x22,
  OHLCV_1D: 0x23,
  OHLCV_EOD: 0x24,
  MBO: 0xa0,
  CMBP_1: 0xb1,
  CBBO_1S: 0xc0,
  CBBO_1M: 0xc1,
  TCBBO: 0xc2,
  BBO_1S: 0xc3,
  BBO_1M: 0xc4
} as const

/** Action bytes (ASCII). */
export const Action = {
  ADD: 0x41, // 'A'
  CANCEL: 0x43, // 'C'
  MODIFY: 0x4d, // 'M'
  CLEAR: 0x52, // 'R'
  TRADE: 0x54, // 'T'
  FILL: 0x46, // 'F'
  NONE: 0x4e // 'N'
} as const

/** Side bytes (ASCII). */
export const Side = {
  ASK: 0x41, // 'A'
  BID: 0x42, // 'B'
  NONE: 0x4e // 'N'
} as const

export const Flags = {
  LAST: 0x80,
  TOB: 0x40,
  SNAPSHOT: 0x20,
  MBP: 0x10,
  BAD_TS_RECV: 0x08,
  MAYBE_BAD_BOOK: 0x04,
  PUBLISHER_SPECIFIC: 0x02
} as const

export const Schema = {
  MBO: 0,
  MBP_1: 1,
  MBP_10: 2,
  TBBO: 3,
  TRADES: 4,
  OHLCV_1S: 5,
  OHLCV_1M: 6,
  OHLCV_1H: 7,
  OHLCV_1D: 8,
  DEFINITION: 9,
  STATISTICS: 10,
  STATUS: 11,
  IMBALANCE: 12,
  OHLCV_EOD: 13,
  CMBP_1: 14,
  CBBO_1S: 15,
  CBBO_1M: 16,
  TCBBO: 17,
  BBO_1S: 18,
  BBO_1M: 19
} as const

export const SCHEMA_NAMES = [
  "mbo", "mbp-1", "mbp-10", "tbbo", "trades", "ohlcv-1s", "ohlcv-1m", "ohlcv-1h", "ohlcv-1d", "definition",
  "statistics", "status", "imbalance", "ohlcv-eod", "cmbp-1", "cbbo-1s", "cbbo-1m", "tcbbo", "bbo-1s", "bbo-1m"
] as const

export const SType = {
  INSTRUMENT_ID: 0,
  RAW_SYMBOL: 1,
  SMART: 2,
  CONTINUOUS: 3,
  PARENT: 4,
  NASDAQ_SYMBOL: 5,
  CMS_SYMBOL: 6,
  ISIN: 7,
  US_CODE: 8,
  BBG_COMP_ID: 9,
  BBG_COMP_TICKER: 10,
  FIGI: 11,
  FIGI_TICKER: 12
} as const

export const STYPE_NAMES = [
  "instrument_id", "raw_symbol", "smart", "continuous", "parent", "nasdaq_symbol", "cms_symbol", "isin", "us_code",
  "bbg_comp_id", "bbg_comp_ticker", "figi", "figi_ticker"
] as const

export const SystemCode = {
  HEARTBEAT: 0,
  SUBSCRIPTION_ACK: 1,
  SLOW_READER_WARNING: 2,
  REPLAY_COMPLETED: 3,
  END_OF_INTERVAL: 4,
  UNSET: 255
} as const

export const ErrorCode = {
  AUTH_FAILED: 1,
  API_KEY_DEACTIVATED: 2,
  CONNECTION_LIMIT_EXCEEDED: 3,
  SYMBOL_RESOLUTION_FAILED: 4,
  INVALID_SUBSCRIPTION: 5,
  INTERNAL_ERROR: 6,
  SKIPPED_RECORDS_AFTER_SLOW_READING: 7,
  UNSET: 255
} as const
