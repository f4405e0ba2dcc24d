/**
 * DBN metadata header (all versions surfaced in one shape).
 * shared/spec/databento.md §2.1–2.3.
 */

export interface MappingInterval {
  /** YYYYMMDD as an integer, inclusive. */
  readonly start_date: number
  /** YYYYMMDD as an integer, exclusive. */
  readonly end_date: number
  readonly symbol: string
}

export interface SymbolMapping {
  readonly raw_symbol: string
  readonly intervals: ReadonlyArray<MappingInterval>
}

export interface Metadata {
  /** DBN version of the stream (1, 2 or 3). */
  readonly version: number
  readonly dataset: string
  /** Schema id; null for mixed-schema (live) streams (0xFFFF on the wire). */
  readonly schema: number | null
  /** ns since epoch, inclusive. */
  readonly start: bigint
  /** ns since epoch, exclusive; UNDEF_TIMESTAMP when null. */
  readonly end: bigint
  /** 0 = no limit. */
  readonly limit: bigint
  /** null when 0xFF. */
  readonly stype_in: number | null
  readonly stype_out: number | null
  readonly ts_out: boolean
  /** Width of fixed symbol strings: 22 in v1, 71 in v2/v3. */
  readonly symbol_cstr_len: number
  readonly symbols: ReadonlyArray<string>
  readonly partial: ReadonlyArray<string>
  readonly not_found: ReadonlyArray<string>
  readonly mappings: ReadonlyArray<SymbolMapping>
}
