/**
 * JSON lines in the shape of Databento's `dbn --json` (dbn crate 0.54, not pretty-printed): `ts_recv` first when the
 * record has one, then `hd`, then the fields in dbn's encode order; 64-bit integers and prices as decimal strings of
 * the raw integer; chars as one-letter strings (NUL → null). Records are written in their v3 shape.
 * shared/spec/databento.md §3–5.
 */
import { SCHEMA_NAMES, STYPE_NAMES, UNDEF_TIMESTAMP } from "./Constants.js"
import type { Metadata } from "./Metadata.js"
import type { BidAskPair, DbnRecord, InstrumentDefMsg, MboMsg, RecordHeader } from "./Records.js"

const str = (s: string): string => JSON.stringify(s)
const big = (v: bigint): string => `"${v}"`
/** dbn writes a NUL char as null. */
const chr = (c: string): string => (c.length === 0 || c === "\u0000" ? "null" : JSON.stringify(c))

const header = (hd: RecordHeader): string =>
  `"hd":{"ts_event":${big(hd.ts_event)},"rtype":${hd.rtype},"publisher_id":${hd.publisher_id},` +
  `"instrument_id":${hd.instrument_id}}`

const levels = (ls: ReadonlyArray<BidAskPair>): string =>
  "[" +
  ls.map((l) =>
    `{"bid_px":${big(l.bid_px)},"ask_px":${big(l.ask_px)},"bid_sz":${l.bid_sz},"ask_sz":${l.ask_sz},` +
    `"bid_ct":${l.bid_ct},"ask_ct":${l.ask_ct}}`
  ).join(",") +
  "]"

type Kind = "int" | "big" | "char" | "str"

/** InstrumentDefMsg fields after `ts_recv` and `hd`, in dbn's encode order. */
const DEFINITION_ORDER: ReadonlyArray<readonly [keyof InstrumentDefMsg & string, Kind]> = [
  ["raw_symbol", "str"],
  ["security_update_action", "char"],
  ["instrument_class", "char"],
  ["min_price_increment", "big"],
  ["display_factor", "big"],
  ["expiration", "big"],
  ["activation", "big"],
  ["high_limit_price", "big"],
  ["low_limit_price", "big"],
  ["max_price_variation", "big"],
  ["unit_of_measure_qty", "big"],
  ["min_price_increment_amount", "big"],
  ["price_ratio", "big"],
  ["inst_attrib_value", "int"],
  ["underlying_id", "int"],
  ["raw_instrument_id", "big"],
  ["market_depth_implied", "int"],
  ["market_depth", "int"],
  ["market_segment_id", "int"],
  ["max_trade_vol", "int"],
  ["min_lot_size", "int"],
  ["min_lot_size_block", "int"],
  ["min_lot_size_round_lot", "int"],
  ["min_trade_vol", "int"],
  ["contract_multiplier", "int"],
  ["decay_quantity", "int"],
  ["original_contract_size", "int"],
  ["appl_id", "int"],
  ["maturity_year", "int"],
  ["decay_start_date", "int"],
  ["channel_id", "int"],
  ["currency", "str"],
  ["settl_currency", "str"],
  ["secsubtype", "str"],
  ["group", "str"],
  ["exchange", "str"],
  ["asset", "str"],
  ["cfi", "str"],
  ["security_type", "str"],
  ["unit_of_measure", "str"],
  ["underlying", "str"],
  ["strike_price_currency", "str"],
  ["strike_price", "big"],
  ["match_algorithm", "char"],
  ["main_fraction", "int"],
  ["price_display_format", "int"],
  ["sub_fraction", "int"],
  ["underlying_product", "int"],
  ["maturity_month", "int"],
  ["maturity_day", "int"],
  ["maturity_week", "int"],
  ["user_defined_instrument", "char"],
  ["contract_multiplier_unit", "int"],
  ["flow_schedule_type", "int"],
  ["tick_rule", "int"],
  ["leg_count", "int"],
  ["leg_index", "int"],
  ["leg_instrument_id", "int"],
  ["leg_raw_symbol", "str"],
  ["leg_instrument_class", "char"],
  ["leg_side", "char"],
  ["leg_price", "big"],
  ["leg_delta", "big"],
  ["leg_ratio_price_numerator", "int"],
  ["leg_ratio_price_denominator", "int"],
  ["leg_ratio_qty_numerator", "int"],
  ["leg_ratio_qty_denominator", "int"],
  ["leg_underlying_id", "int"]
]

const definitionFields = (r: InstrumentDefMsg): string => {
  const fields = r as unknown as Record<string, unknown>
  const parts: Array<string> = []
  for (const [name, kind] of DEFINITION_ORDER) {
    const v = fields[name]
    const text = kind === "int"
      ? String(v)
      : kind === "big"
      ? big(v as bigint)
      : kind === "char"
      ? chr(v as string)
      : str(v as string)
    parts.push(`"${name}":${text}`)
  }
  return parts.join(",")
}

const tradeFields = (r: {
  readonly action: string
  readonly side: string
  readonly depth: number
  readonly price: bigint
  readonly size: number
  readonly flags: number
  readonly ts_in_delta: number
  readonly sequence: number
}): string =>
  `"action":${chr(r.action)},"side":${chr(r.side)},"depth":${r.depth},"price":${big(r.price)},"size":${r.size},` +
  `"flags":${r.flags},"ts_in_delta":${r.ts_in_delta},"sequence":${r.sequence}`

/** One record as a `dbn --json` line (without the trailing newline). */
export const recordToJson = (r: MboMsg | DbnRecord): string => {
  let body: string
  switch (r._tag) {
    case "mbo":
      body = `"ts_recv":${big(r.ts_recv)},${header(r.hd)},"action":${chr(r.action)},"side":${chr(r.side)},` +
        `"price":${big(r.price)},"size":${r.size},"channel_id":${r.channel_id},"order_id":${big(r.order_id)},` +
        `"flags":${r.flags},"ts_in_delta":${r.ts_in_delta},"sequence":${r.sequence}`
      break
    case "trade":
      body = `"ts_recv":${big(r.ts_recv)},${header(r.hd)},${tradeFields(r)}`
      break
    case "mbp1":
    case "mbp10":
      body = `"ts_recv":${big(r.ts_recv)},${header(r.hd)},${tradeFields(r)},"levels":${levels(r.levels)}`
      break
    case "ohlcv":
      body = `${header(r.hd)},"open":${big(r.open)},"high":${big(r.high)},"low":${big(r.low)},` +
        `"close":${big(r.close)},"volume":${big(r.volume)}`
      break
    case "status":
      body = `"ts_recv":${big(r.ts_recv)},${header(r.hd)},"action":${r.action},"reason":${r.reason},` +
        `"trading_event":${r.trading_event},"is_trading":${chr(r.is_trading)},"is_quoting":${chr(r.is_quoting)},` +
        `"is_short_sell_restricted":${chr(r.is_short_sell_restricted)}`
      break
    case "stat":
      body = `"ts_recv":${big(r.ts_recv)},${header(r.hd)},"ts_ref":${big(r.ts_ref)},"price":${big(r.price)},` +
        `"quantity":${big(r.quantity)},"sequence":${r.sequence},"ts_in_delta":${r.ts_in_delta},` +
        `"stat_type":${r.stat_type},"channel_id":${r.channel_id},"update_action":${r.update_action},` +
        `"stat_flags":${r.stat_flags}`
      break
    case "symbolMapping":
      body = `${header(r.hd)},"stype_in":${r.stype_in},"stype_in_symbol":${str(r.stype_in_symbol)},` +
        `"stype_out":${r.stype_out},"stype_out_symbol":${str(r.stype_out_symbol)},"start_ts":${big(r.start_ts)},` +
        `"end_ts":${big(r.end_ts)}`
      break
    case "system":
      body = `${header(r.hd)},"msg":${str(r.msg)},"code":${r.code}`
      break
    case "error":
      body = `${header(r.hd)},"err":${str(r.err)},"code":${r.code},"is_last":${r.is_last}`
      break
    case "definition":
      body = `"ts_recv":${big(r.ts_recv)},${header(r.hd)},${definitionFields(r)}`
      break
  }
  return r.ts_out === undefined ? `{${body}}` : `{${body},"ts_out":${big(r.ts_out)}}`
}

const nameOr = (names: ReadonlyArray<string>, v: number | null): string =>
  v === null ? "null" : str(names[v] ?? String(v))

/** The metadata as `dbn --json --metadata` writes it (end null when UNDEF, limit null when 0, dates YYYYMMDD). */
export const metadataToJson = (m: Metadata): string => {
  const list = (xs: ReadonlyArray<string>) => `[${xs.map(str).join(",")}]`
  const mappings = m.mappings.map((mp) =>
    `{"raw_symbol":${str(mp.raw_symbol)},"intervals":[` +
    mp.intervals.map((iv) =>
      `{"start_date":${iv.start_date},"end_date":${iv.end_date},"symbol":${str(iv.symbol)}}`
    ).join(",") +
    "]}"
  ).join(",")
  return `{"version":${m.version},"dataset":${str(m.dataset)},"schema":${nameOr(SCHEMA_NAMES, m.schema)},` +
    `"start":${big(m.start)},"end":${m.end === UNDEF_TIMESTAMP || m.end === 0n ? "null" : big(m.end)},` +
    `"limit":${m.limit === 0n ? "null" : big(m.limit)},"stype_in":${nameOr(STYPE_NAMES, m.stype_in)},` +
    `"stype_out":${nameOr(STYPE_NAMES, m.stype_out)},"ts_out":${m.ts_out},"symbol_cstr_len":${m.symbol_cstr_len},` +
    `"symbols":${list(m.symbols)},"partial":${list(m.partial)},"not_found":${list(m.not_found)},` +
    `"mappings":[${mappings}]}`
}
