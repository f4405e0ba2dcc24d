/**
 * Instrument definitions by instrument_id: strike, call/put, expiration, underlying, tick, multiplier and order
 * limits, kept current through security_update_action A/M/D; raw symbols from symbol mappings for the rest.
 * shared/spec/databento.md §4 (InstrumentClass, SecurityUpdateAction), §5.5, §5.7.
 */
import { FIXED_PRICE_SCALE, UNDEF_PRICE, UNDEF_TIMESTAMP } from "../dbn/Constants.js"
import type { InstrumentDefMsg, SymbolMappingMsg } from "../dbn/Records.js"
import type { OptionType } from "../flow/PressureWindow.js"

const I32_MAX = 2147483647
const U32_MAX = 4294967295
const NS_PER_DAY = 86_400_000_000_000n
const MS_PER_DAY = 86_400_000

/** What one definition record did. */
export type DefinitionOutcome = "added" | "modified" | "deleted" | "deleteUnknown"

/** One instrument as the flow pipeline needs it. Immutable: a modify replaces the object. */
export interface Instrument {
  readonly instrumentId: number
  readonly rawSymbol: string
  /** InstrumentClass letter: `C` call, `P` put, `F` future, `T` option spread, … ("" when NUL). */
  readonly instrumentClass: string
  /** `C`/`P` for an outright option, else undefined. */
  readonly optionType: OptionType | undefined
  /** Strike in price points (e.g. 21500.5); NaN when the definition has none. */
  readonly strike: number
  /** Expiration, ns since epoch; undefined when UNDEF. */
  readonly expirationNs: bigint | undefined
  /** Expiration as the UTC date YYYY-MM-DD; "" when undefined. */
  readonly expiration: string
  /** Raw symbol of the underlying (e.g. `NQM5`); "" when none. */
  readonly underlying: string
  /** instrument_id of the underlying; 0 when none. */
  readonly underlyingId: number
  /** Product code (e.g. `NQ`, weekly codes like `Q1A`). */
  readonly asset: string
  readonly group: string
  readonly exchange: string
  /** e.g. `OOF` (option on future), `FUT`. */
  readonly securityType: string
  readonly currency: string
  /** Minimum price increment in points; undefined when UNDEF (CME options use variable tick tables). */
  readonly tickSize: number | undefined
  /** Currency per price point: unit_of_measure_qty when defined (NQ 20), else contract_multiplier, else 1. */
  readonly multiplier: number
  /** Largest order quantity the venue accepts; undefined when the definition leaves it null. */
  readonly maxTradeVol: number | undefined
  /** Smallest order quantity; undefined when null. */
  readonly minTradeVol: number | undefined
  /** ts_recv of the definition record that produced this state, ns. */
  readonly tsRecv: bigint
  /** True for a C/P with a defined strike and expiration: such instruments get pressure windows. */
  readonly windowed: boolean
}

/** Counters of what the definitions did. */
export interface InstrumentCounts {
  /** Definition records applied. */
  definitions: number
  added: number
  modified: number
  deleted: number
  /** Deletes of an instrument that was never defined. */
  deleteUnknown: number
  /** C/P definitions without a usable strike or expiration (known, but no windows). */
  incompleteOptions: number
  /** Symbol mapping records applied. */
  mappings: number
}

const defined64 = (v: bigint): boolean => v !== UNDEF_PRICE

/** Decimal points of a 1e-9 fixed-point value. */
export const pointsOf = (raw: bigint): number => Number(raw) / FIXED_PRICE_SCALE

/** The UTC calendar date (YYYY-MM-DD) of a ns timestamp. */
export const utcDate = (ns: bigint): string => {
  const days = ns >= 0n ? ns / NS_PER_DAY : (ns - NS_PER_DAY + 1n) / NS_PER_DAY
  return new Date(Number(days) * MS_PER_DAY).toISOString().slice(0, 10)
}

/** Contract multiplier from a definition: unit_of_measure_qty (1e-9) when defined, else contract_multiplier, else 1. */
export const multiplierOf = (def: InstrumentDefMsg): number => {
  const uom = def.unit_of_measure_qty
  if (defined64(uom) && uom > 0n) return pointsOf(uom)
  const cm = def.contract_multiplier
  if (cm !== I32_MAX && cm > 0) return cm
  return 1
}

/** Builds the pipeline view of one definition record. */
export const fromDefinition = (def: InstrumentDefMsg): Instrument => {
  const cls = def.instrument_class
  const optionType: OptionType | undefined = cls === "C" || cls === "P" ? cls : undefined
  const strike = defined64(def.strike_price) ? pointsOf(def.strike_price) : NaN
  const expirationNs = def.expiration === UNDEF_TIMESTAMP ? undefined : def.expiration
  const expiration = expirationNs === undefined ? "" : utcDate(expirationNs)
  const tick = def.min_price_increment
  const maxVol = def.max_trade_vol
  const minVol = def.min_trade_vol
  return {
    instrumentId: def.hd.instrument_id,
    rawSymbol: def.raw_symbol,
    instrumentClass: cls,
    optionType,
    strike,
    expirationNs,
    expiration,
    underlying: def.underlying,
    underlyingId: def.underlying_id,
    asset: def.asset,
    group: def.group,
    exchange: def.exchange,
    securityType: def.security_type,
    currency: def.currency,
    tickSize: defined64(tick) && tick > 0n ? pointsOf(tick) : undefined,
    multiplier: multiplierOf(def),
    maxTradeVol: maxVol === U32_MAX || maxVol === 0 ? undefined : maxVol,
    minTradeVol: minVol === U32_MAX || minVol === 0 ? undefined : minVol,
    tsRecv: def.ts_recv,
    windowed: optionType !== undefined && !Number.isNaN(strike) && expirationNs !== undefined
  }
}

/** The instruments of a stream, by instrument_id. Definitions are applied in stream order. */
export class Instruments {
  private readonly byId = new Map<number, Instrument>()
  private readonly symbols = new Map<number, string>()
  readonly counts: InstrumentCounts = {
    definitions: 0,
    added: 0,
    modified: 0,
    deleted: 0,
    deleteUnknown: 0,
    incompleteOptions: 0,
    mappings: 0
  }

  /**
   * Applies one definition: `D` removes the instrument; anything else (`A`, `M`, and the invalid `~`, which
   * real feeds do not send) adds or replaces it. Returns what happened.
   */
  apply(def: InstrumentDefMsg): DefinitionOutcome {
    const id = def.hd.instrument_id
    this.counts.definitions++
    if (def.security_update_action === "D") {
      if (this.byId.delete(id)) {
        this.counts.deleted++
        return "deleted"
      }
      this.counts.deleteUnknown++
      return "deleteUnknown"
    }
    const instrument = fromDefinition(def)
    if (instrument.optionType !== undefined && !instrument.windowed) this.counts.incompleteOptions++
    const existed = this.byId.has(id)
    this.byId.set(id, instrument)
    if (instrument.rawSymbol !== "") this.symbols.set(id, instrument.rawSymbol)
    if (existed) {
      this.counts.modified++
      return "modified"
    }
    this.counts.added++
    return "added"
  }

  /** Remembers the raw symbol of an instrument from a symbol mapping (used only to name instruments in reports). */
  applyMapping(m: SymbolMappingMsg): void {
    this.counts.mappings++
    if (m.stype_out_symbol !== "") this.symbols.set(m.hd.instrument_id, m.stype_out_symbol)
  }

  get(instrumentId: number): Instrument | undefined {
    return this.byId.get(instrumentId)
  }

  has(instrumentId: number): boolean {
    return this.byId.has(instrumentId)
  }

  /** Raw symbol from the definition or, failing that, a symbol mapping. */
  symbolOf(instrumentId: number): string | undefined {
    return this.symbols.get(instrumentId)
  }

  /** Number of defined instruments. */
  get size(): number {
    return this.byId.size
  }

  values(): IterableIterator<Instrument> {
    return this.byId.values()
  }

  /** Defined outright options (C/P). */
  options(): Array<Instrument> {
    const out: Array<Instrument> = []
    for (const i of this.byId.values()) if (i.optionType !== undefined) out.push(i)
    return out
  }
}
