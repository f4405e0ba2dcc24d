/**
 * Builders for the book/flow/instrument tests: MBO rows written as readable objects (prices in points, times as
 * bigint ns) turned into `allocMboBatch` columns, decoded chunks with interleaved other records, and definitions.
 */
import { allocMboBatch, type DecodedChunk, type MboBatch } from "../../src/dbn/Batch.js"
import { RType, UNDEF_PRICE, UNDEF_TIMESTAMP } from "../../src/dbn/Constants.js"
import { DbnDecoder, type DecoderOptions } from "../../src/dbn/Decoder.js"
import type { DbnRecord, InstrumentDefMsg } from "../../src/dbn/Records.js"
import { ZstdDecompressor } from "../../src/dbn/Zstd.js"
import { readFixture } from "../support/Fixtures.js"

export interface Row {
  /** Action letter. */
  readonly action: "A" | "C" | "M" | "R" | "T" | "F" | "N"
  readonly side?: "A" | "B" | "N"
  readonly id?: bigint | number
  /** Price points; undefined → UNDEF_PRICE. */
  readonly price?: number
  readonly size?: number
  readonly flags?: number
  readonly ts?: bigint
  readonly recv?: bigint
  readonly instrument?: number
  readonly sequence?: number
}

/** 2024-01-02 14:30:00 UTC, ns: a window boundary (divisible by 300 s). */
export const T0 = 1_704_205_800_000_000_000n
export const NS_PER_S = 1_000_000_000n
export const INSTRUMENT = 42

const fixed = (points: number): number => Math.round(points * 1e9)

/** Writes rows into an MBO batch. Defaults: instrument 42, ts T0, recv = ts, flags 130 (LAST|bit 1) on book records. */
export const batch = (rows: ReadonlyArray<Row>): MboBatch => {
  const b = allocMboBatch(rows.length)
  rows.forEach((r, i) => {
    const id = BigInt(r.id ?? 0)
    const ts = r.ts ?? T0
    const recv = r.recv ?? ts
    b.publisherId[i] = 1
    b.instrumentId[i] = r.instrument ?? INSTRUMENT
    b.tsEventHi[i] = Number(ts >> 32n)
    b.tsEventLo[i] = Number(ts & 0xffffffffn)
    b.orderIdHi[i] = Number(id >> 32n)
    b.orderIdLo[i] = Number(id & 0xffffffffn)
    const raw = r.price === undefined ? UNDEF_PRICE : BigInt(fixed(r.price))
    b.price[i] = r.price === undefined ? NaN : fixed(r.price)
    b.priceHi[i] = Number(BigInt.asIntN(32, raw >> 32n))
    b.priceLo[i] = Number(raw & 0xffffffffn)
    b.size[i] = r.size ?? 0
    b.flags[i] = r.flags ?? (r.action === "T" || r.action === "F" ? 0 : 130)
    b.action[i] = r.action.charCodeAt(0)
    b.side[i] = (r.side ?? (r.action === "R" ? "N" : "B")).charCodeAt(0)
    b.tsRecvHi[i] = Number(recv >> 32n)
    b.tsRecvLo[i] = Number(recv & 0xffffffffn)
    b.sequence[i] = r.sequence ?? i
  })
  b.length = rows.length
  return b
}

/** A decoded chunk holding `items` in order: rows go to the MBO batch, other records to `others`. */
export const chunk = (items: ReadonlyArray<Row | DbnRecord>): DecodedChunk => {
  const rows: Array<Row> = []
  const others: Array<DbnRecord> = []
  const othersAt: Array<number> = []
  for (const item of items) {
    if ("hd" in item) {
      others.push(item)
      othersAt.push(rows.length)
    } else rows.push(item)
  }
  return {
    metadata: undefined,
    mbo: batch(rows),
    others,
    othersAt,
    fatal: undefined,
    skippedUnknown: 0,
    skippedMalformed: 0,
    problems: []
  }
}

/** Splits a list of items into chunks at the given item indices (for split-invariance tests). */
export const chunks = (items: ReadonlyArray<Row | DbnRecord>, cuts: ReadonlyArray<number>): Array<DecodedChunk> => {
  const out: Array<DecodedChunk> = []
  let from = 0
  for (const c of [...cuts, items.length]) {
    out.push(chunk(items.slice(from, c)))
    from = c
  }
  return out
}

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
  activation: (s.expiration ?? EXPIRY) - 86_400_000_000_000n * 90n,
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
  underlying_id: 7,
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

export { UNDEF_TIMESTAMP }

/**
 * Streams a fixture through the project's zstd and DBN decoders in `pieceSize`-byte compressed pieces and returns
 * the decoded chunks (for the real-data tests). `fragment` gives the version of a records-only file.
 */
export const decodeFixture = (file: string, pieceSize = 65_536, options: DecoderOptions = {}): Array<DecodedChunk> => {
  const raw = readFixture(file)
  const z = file.endsWith(".zst") ? new ZstdDecompressor() : undefined
  const d = new DbnDecoder(options)
  const out: Array<DecodedChunk> = []
  const feed = (bytes: ReadonlyArray<Uint8Array>) => {
    for (const b of bytes) d.push(b)
    const c = d.drain()
    if (c.fatal !== undefined) throw new Error(`${file}: ${c.fatal.reason} ${c.fatal.detail}`)
    if (c.mbo.length > 0 || c.others.length > 0) out.push(c)
  }
  for (let o = 0; o < raw.length; o += pieceSize) {
    const piece = raw.subarray(o, Math.min(raw.length, o + pieceSize))
    if (z === undefined) feed([piece])
    else {
      const r = z.push(piece)
      if (r.problem !== undefined) throw new Error(`${file}: ${r.problem.detail}`)
      feed(r.chunks)
    }
  }
  if (z !== undefined) {
    const r = z.finish()
    if (r.problem !== undefined) throw new Error(`${file}: ${r.problem.detail}`)
    feed(r.chunks)
  }
  const end = d.finish()
  if (end !== undefined) throw new Error(`${file}: ${end.reason} ${end.detail}`)
  return out
}
