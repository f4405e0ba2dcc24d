/**
 * Builders for the book/flow/instrument tests: MBO rows written as readable objects (prices in points, times as
 * bigint ns) turned into `allocMboBatch` columns, decoded chunks with interleaved other records, and definitions.
 */
import { allocMboBatch, chunkOfRows, type DecodedChunk, type MboBatch } from "../../src/dbn/Batch.js"
import { UNDEF_PRICE, UNDEF_TIMESTAMP } from "../../src/dbn/Constants.js"
import { DbnDecoder, type DecoderOptions } from "../../src/dbn/Decoder.js"
import type { DbnRecord } from "../../src/dbn/Records.js"
import { ZstdDecompressor } from "../../src/dbn/Zstd.js"
import { T0 } from "../../src/testing/Definitions.js"
import { readFixture } from "../support/Fixtures.js"

export { definition, type DefinitionSpec, EXPIRY, T0 } from "../../src/testing/Definitions.js"

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
  return chunkOfRows(batch(rows), others, othersAt)
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
