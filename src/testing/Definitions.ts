/**
 * A GLBX NQ option definition (v3 shape) with every field a real one carries, for tests and benchmarks that need
 * instruments without a simulated session: only the fields a spec names differ from the defaults.
 */
import { RType, UNDEF_PRICE } from "../dbn/Constants.js"
import type { InstrumentDefMsg } from "../dbn/Records.js"

/** 2024-01-02 14:30:00 UTC, ns: a window boundary (divisible by 300 s); the default time of a definition. */
export const T0 = 1_704_205_800_000_000_000n

const I32_MAX = 2147483647
const U32_MAX = 4294967295

export interface DefinitionSpec {
  readonly instrument: number
  readonly symbol?: string
  /** `C`, `P`, `F`, … */
  readonly cls?: string
  /** Points. */
  readonly strike?: number
  readonly expiration?: bigint
  readonly action?: "A" | "M" | "D"
  readonly unitOfMeasureQty?: bigint
  readonly contractMultiplier?: number
  readonly maxTradeVol?: number
  readonly tick?: bigint
  readonly ts?: bigint
  readonly activation?: bigint
  readonly underlyingId?: number
}

/** 2024-03-15 13:30 UTC (a quarterly NQ option expiry, 08:30 CT), ns. */
export const EXPIRY = 1_710_509_400_000_000_000n

/** An InstrumentDefMsg shaped like a GLBX NQ option definition (v3 shape). */
export const definition = (s: DefinitionSpec): InstrumentDefMsg => ({
  _tag: "definition",
  hd: { length: 520, rtype: RType.INSTRUMENT_DEF, publisher_id: 1, instrument_id: s.instrument, ts_event: s.ts ?? T0 },
  ts_recv: s.ts ?? T0,
  min_price_increment: s.tick ?? UNDEF_PRICE,
  display_factor: 10_000_000n,
  expiration: s.expiration ?? EXPIRY,
  activation: s.activation ?? (s.expiration ?? EXPIRY) - 86_400_000_000_000n * 90n,
  high_limit_price: UNDEF_PRICE,
  low_limit_price: UNDEF_PRICE,
  max_price_variation: UNDEF_PRICE,
  unit_of_measure_qty: s.unitOfMeasureQty ?? 20_000_000_000n,
  min_price_increment_amount: UNDEF_PRICE,
  price_ratio: UNDEF_PRICE,
  strike_price: s.strike === undefined ? UNDEF_PRICE : BigInt(Math.round(s.strike * 1e9)),
  raw_instrument_id: BigInt(s.instrument),
  leg_price: UNDEF_PRICE,
  leg_delta: UNDEF_PRICE,
  inst_attrib_value: 0,
  underlying_id: s.underlyingId ?? 7,
  market_depth_implied: 0,
  market_depth: 10,
  market_segment_id: 0,
  max_trade_vol: s.maxTradeVol ?? U32_MAX,
  min_lot_size: 0,
  min_lot_size_block: 0,
  min_lot_size_round_lot: 0,
  min_trade_vol: 1,
  contract_multiplier: s.contractMultiplier ?? I32_MAX,
  decay_quantity: I32_MAX,
  original_contract_size: I32_MAX,
  leg_instrument_id: 0,
  leg_ratio_price_numerator: 0,
  leg_ratio_price_denominator: 0,
  leg_ratio_qty_numerator: 0,
  leg_ratio_qty_denominator: 0,
  leg_underlying_id: 0,
  appl_id: 0,
  maturity_year: 2024,
  decay_start_date: 65535,
  channel_id: 0,
  leg_count: 0,
  leg_index: 0,
  currency: "USD",
  settl_currency: "",
  secsubtype: "",
  raw_symbol: s.symbol ?? `NQH4 ${s.cls ?? "C"}${s.strike ?? 0}`,
  group: "NQ",
  exchange: "XCME",
  asset: "NQ",
  cfi: "",
  security_type: (s.cls ?? "C") === "F" ? "FUT" : "OOF",
  unit_of_measure: "IPNT",
  underlying: "NQH4",
  strike_price_currency: "USD",
  leg_raw_symbol: "",
  instrument_class: s.cls ?? "C",
  match_algorithm: "F",
  main_fraction: 255,
  price_display_format: 255,
  sub_fraction: 255,
  underlying_product: 5,
  security_update_action: s.action ?? "A",
  maturity_month: 3,
  maturity_day: 255,
  maturity_week: 255,
  user_defined_instrument: "N",
  contract_multiplier_unit: 127,
  flow_schedule_type: 127,
  tick_rule: 255,
  leg_instrument_class: "",
  leg_side: "N"
})
