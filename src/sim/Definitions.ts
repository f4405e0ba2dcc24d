/**
 * Instrument definition and symbol-mapping records of the simulated chain, field values modelled on real GLBX
 * option/future definitions (shared/spec/databento.md §5.5, §5.7; nautilus_trader's ESU6 fixtures).
 */
import { RType, SType, UNDEF_PRICE } from "../dbn/Constants.js"
import type { InstrumentDefMsg, SymbolMappingMsg } from "../dbn/Records.js"
import * as Calendar from "./Calendar.js"
import type { Chain, FutureInstrument, OptionInstrument } from "./Chain.js"

/** NQ contract multiplier: currency per index point. */
export const MULTIPLIER = 20
/** Simulated tick: 0.25 points (1e-9 units). */
export const TICK = 250_000_000
/** Largest order quantity the venue accepts (definitions' max_trade_vol). */
export const MAX_TRADE_VOL = 2000
/** GLBX.MDP3.GLBX. */
export const PUBLISHER_ID = 1

const I32_MAX = 2147483647
const U16_MAX = 65535
const DEF_LENGTH = 520
const MAPPING_LENGTH = 176
const NS_PER_DAY = 86_400_000_000_000n
const NS_PER_YEAR = 365n * NS_PER_DAY

interface Common {
  readonly tsEvent: bigint
  readonly tsRecv: bigint
}

const header = (length: number, rtype: number, instrumentId: number, tsEvent: bigint) => ({
  length,
  rtype,
  publisher_id: PUBLISHER_ID,
  instrument_id: instrumentId,
  ts_event: tsEvent
})

const base = (instrumentId: number, channel: number, t: Common) => ({
  _tag: "definition" as const,
  hd: header(DEF_LENGTH, RType.INSTRUMENT_DEF, instrumentId, t.tsEvent),
  ts_recv: t.tsRecv,
  display_factor: 10_000_000n,
  high_limit_price: UNDEF_PRICE,
  max_price_variation: UNDEF_PRICE,
  unit_of_measure_qty: BigInt(MULTIPLIER) * 1_000_000_000n,
  price_ratio: UNDEF_PRICE,
  raw_instrument_id: BigInt(instrumentId),
  leg_price: UNDEF_PRICE,
  leg_delta: UNDEF_PRICE,
  market_depth_implied: 0,
  max_trade_vol: MAX_TRADE_VOL,
  min_lot_size: 0,
  min_lot_size_block: 0,
  min_lot_size_round_lot: 0,
  min_trade_vol: 1,
  contract_multiplier: I32_MAX,
  decay_quantity: I32_MAX,
  original_contract_size: I32_MAX,
  leg_instrument_id: 0,
  leg_ratio_price_numerator: 0,
  leg_ratio_price_denominator: 0,
  leg_ratio_qty_numerator: 0,
  leg_ratio_qty_denominator: 0,
  leg_underlying_id: 0,
  decay_start_date: U16_MAX,
  channel_id: channel,
  leg_count: 0,
  leg_index: 0,
  currency: "USD",
  settl_currency: "",
  secsubtype: "",
  exchange: "XCME",
  unit_of_measure: "IPNT",
  leg_raw_symbol: "",
  match_algorithm: "F",
  main_fraction: 255,
  price_display_format: 255,
  sub_fraction: 255,
  underlying_product: 5,
  security_update_action: "A",
  maturity_day: 255,
  maturity_week: 255,
  user_defined_instrument: "N",
  contract_multiplier_unit: 127,
  flow_schedule_type: 127,
  leg_instrument_class: "",
  leg_side: "N"
})

const maturity = (expirationNs: bigint) => {
  const c = Calendar.civilFromDays(Number(expirationNs / NS_PER_DAY))
  return { year: c.y, month: c.m }
}

export const futureDefinition = (f: FutureInstrument, t: Common): InstrumentDefMsg => {
  const m = maturity(f.expirationNs)
  return {
    ...base(f.instrumentId, 0, t),
    min_price_increment: BigInt(TICK),
    expiration: f.expirationNs,
    activation: f.expirationNs - NS_PER_YEAR,
    low_limit_price: UNDEF_PRICE,
    min_price_increment_amount: BigInt(TICK * MULTIPLIER),
    strike_price: UNDEF_PRICE,
    inst_attrib_value: 270351,
    underlying_id: 0,
    market_depth: 10,
    market_segment_id: 64,
    appl_id: 310,
    maturity_year: m.year,
    maturity_month: m.month,
    raw_symbol: f.rawSymbol,
    group: "NQ",
    asset: "NQ",
    cfi: "FFIXSX",
    security_type: "FUT",
    underlying: "",
    strike_price_currency: "",
    instrument_class: "F",
    tick_rule: 255
  }
}

export const optionDefinition = (o: OptionInstrument, chain: Chain, t: Common): InstrumentDefMsg => {
  const m = maturity(o.expiry.expirationNs)
  return {
    ...base(o.instrumentId, o.expiry.channel, t),
    // real CME options use variable tick tables (UNDEF here); the simulator trades a fixed 0.25 tick and says so
    min_price_increment: BigInt(TICK),
    expiration: o.expiry.expirationNs,
    activation: o.expiry.expirationNs - (o.expiry.kind === "quarterly" ? NS_PER_YEAR : 35n * NS_PER_DAY),
    low_limit_price: 50_000_000n,
    min_price_increment_amount: BigInt(TICK * MULTIPLIER),
    strike_price: BigInt(Math.round(o.strike * 100)) * 10_000_000n,
    inst_attrib_value: 270339,
    underlying_id: chain.future.instrumentId,
    market_depth: 3,
    market_segment_id: 54,
    appl_id: 311,
    maturity_year: m.year,
    maturity_month: m.month,
    raw_symbol: o.rawSymbol,
    group: "NQ",
    asset: o.expiry.asset,
    cfi: o.optionType === "C" ? "OCAFPS" : "OPAFPS",
    security_type: "OOF",
    underlying: chain.future.rawSymbol,
    strike_price_currency: "USD",
    instrument_class: o.optionType,
    tick_rule: 17
  }
}

/** A live-style mapping record: the subscribed input symbol (`stypeIn`) → the instrument's raw symbol. */
export const symbolMapping = (
  instrumentId: number,
  stypeIn: number,
  inputSymbol: string,
  rawSymbol: string,
  t: Common & { readonly startTs: bigint; readonly endTs: bigint }
): SymbolMappingMsg => ({
  _tag: "symbolMapping",
  hd: header(MAPPING_LENGTH, RType.SYMBOL_MAPPING, instrumentId, t.tsEvent),
  stype_in: stypeIn,
  stype_in_symbol: inputSymbol,
  stype_out: SType.RAW_SYMBOL,
  stype_out_symbol: rawSymbol,
  start_ts: t.startTs,
  end_ts: t.endTs
})
