/**
 * Hand-built DBN bytes for tests: metadata of any version, records of old layouts (v1 system/error messages),
 * straight from the spec tables (§2, §5.6), independent of the encoder.
 */
import { concatBytes } from "../../src/dbn/Bytes.js"
import { RType } from "../../src/dbn/Constants.js"
import * as Encoder from "../../src/dbn/Encoder.js"
import type { Metadata } from "../../src/dbn/Metadata.js"
import type { MboMsg } from "../../src/dbn/Records.js"

export const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => concatBytes(parts)

export const metadata = (overrides: Partial<Metadata> = {}): Metadata => ({
  version: 3,
  dataset: "GLBX.MDP3",
  schema: 0,
  start: 1609160400000000000n,
  end: 1609200000000000000n,
  limit: 0n,
  stype_in: 1,
  stype_out: 0,
  ts_out: false,
  symbol_cstr_len: 71,
  symbols: [],
  partial: [],
  not_found: [],
  mappings: [],
  ...overrides
})

/** Minimal metadata (no symbols) of any version, written by hand from §2.2. */
export const bareMetadata = (version: number, options: { tsOut?: boolean; length?: number } = {}): Uint8Array => {
  const length = options.length ?? 120
  const u8 = new Uint8Array(8 + Math.max(length, 120))
  const dv = new DataView(u8.buffer)
  u8.set([0x44, 0x42, 0x4e, version])
  dv.setUint32(4, length, true)
  u8.set(new TextEncoder().encode("GLBX.MDP3"), 8)
  dv.setUint16(24, 0xffff, true)
  dv.setBigUint64(34, 18446744073709551615n, true)
  if (version === 1) {
    u8[58] = 0xff
    u8[59] = 0
    u8[60] = options.tsOut ? 1 : 0
  } else {
    u8[50] = 0xff
    u8[51] = 0
    u8[52] = options.tsOut ? 1 : 0
    dv.setUint16(53, 71, true)
  }
  return u8.subarray(0, 8 + length)
}

export const mbo = (i: number, overrides: Partial<MboMsg> = {}): MboMsg => ({
  _tag: "mbo",
  hd: {
    length: 56,
    rtype: RType.MBO,
    publisher_id: 1,
    instrument_id: 5482 + (i % 3),
    ts_event: 1609160400000000000n + BigInt(i)
  },
  order_id: 647784973705n + BigInt(i),
  price: 3722750000000n + BigInt(i) * 250000000n,
  size: 1 + (i % 5),
  flags: 128,
  channel_id: 0,
  action: "A",
  side: i % 2 === 0 ? "B" : "A",
  ts_recv: 1609160400000704060n + BigInt(i),
  ts_in_delta: 22993,
  sequence: 1170352 + i,
  ...overrides
})

export const mboBytes = (i: number, overrides: Partial<MboMsg> = {}): Uint8Array =>
  Encoder.encodeRecord(mbo(i, overrides))

/** A raw record: header with the given length (bytes, multiple of 4) and rtype, rest zero. */
export const rawRecord = (length: number, rtype: number, instrumentId = 1): Uint8Array => {
  const u8 = new Uint8Array(length)
  const dv = new DataView(u8.buffer)
  u8[0] = length / 4
  u8[1] = rtype
  dv.setUint16(2, 1, true)
  dv.setUint32(4, instrumentId, true)
  return u8
}

/** v1 SystemMsg / ErrorMsg (80 bytes: 64-byte text at 16, no code). */
export const v1Text = (rtype: number, text: string): Uint8Array => {
  const u8 = rawRecord(80, rtype, 0)
  u8.set(new TextEncoder().encode(text), 16)
  return u8
}

/** v2+ SystemMsg (320 bytes: msg char[303] @16, code @319). */
export const v2System = (text: string, code: number): Uint8Array => {
  const u8 = rawRecord(320, RType.SYSTEM, 0)
  u8.set(new TextEncoder().encode(text), 16)
  u8[319] = code
  return u8
}
