import { assert, describe, it } from "@effect/vitest"
import { allocMboBatch, mboAt } from "../../src/dbn/Batch.js"
import { RType, UNDEF_PRICE, UNDEF_TIMESTAMP } from "../../src/dbn/Constants.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import * as Encoder from "../../src/dbn/Encoder.js"
import * as Layout from "../../src/dbn/Layout.js"
import type { InstrumentDefMsg, SymbolMappingMsg } from "../../src/dbn/Records.js"
import { fixturesPresent } from "../support/Fixtures.js"
import { concat, mbo, metadata } from "./builders.js"
import { allFixtures, type AnyRecord, dbnBytes, decodeWhole, optionsFor } from "./support.js"

const v3Length = (r: AnyRecord, tsOut = false) => Encoder.recordBodySize(r) + (tsOut ? 8 : 0)
const withLength = <R extends AnyRecord>(r: R, length: number): R => ({ ...r, hd: { ...r.hd, length } })

/** Encodes records as a v3 fragment and decodes them back. */
const roundTrip = (records: ReadonlyArray<AnyRecord>, tsOut = false): Array<AnyRecord> => {
  const bytes = concat(...records.map((r) => Encoder.encodeRecord(r, { tsOut })))
  const out = decodeWhole(bytes, { fragment: { version: 3, tsOut } })
  assert.strictEqual(out.fatal, undefined)
  assert.strictEqual(out.finish, undefined)
  assert.strictEqual(out.skippedMalformed + out.skippedUnknown, 0)
  return out.records
}

const hd = (rtype: number, length: number) => ({
  length,
  rtype,
  publisher_id: 1,
  instrument_id: 42,
  ts_event: 1700000000123456789n
})

/** One record of every type, with values that exercise signs, sentinels and 64-bit extremes. */
const SAMPLES: ReadonlyArray<AnyRecord> = [
  mbo(0),
  mbo(1, { price: UNDEF_PRICE, action: "R", side: "N", order_id: 0n, size: 0 }),
  mbo(2, { price: -5n, order_id: 2n ** 64n - 1n, ts_in_delta: -7, flags: 255 }),
  {
    _tag: "trade",
    hd: hd(RType.MBP_0, 48),
    price: 5528750000000n,
    size: 2,
    action: "T",
    side: "B",
    flags: 129,
    depth: 0,
    ts_recv: 1719878281218218853n,
    ts_in_delta: 123,
    sequence: 9060643
  },
  {
    _tag: "mbp1",
    hd: hd(RType.MBP_1, 80),
    price: 1n,
    size: 3,
    action: "A",
    side: "A",
    flags: 128,
    depth: 1,
    ts_recv: 2n,
    ts_in_delta: -1,
    sequence: 4,
    levels: [{ bid_px: 10n, ask_px: 11n, bid_sz: 12, ask_sz: 13, bid_ct: 14, ask_ct: 15 }]
  },
  {
    _tag: "mbp10",
    hd: hd(RType.MBP_10, 368),
    price: 1n,
    size: 3,
    action: "C",
    side: "B",
    flags: 0,
    depth: 9,
    ts_recv: 2n,
    ts_in_delta: 0,
    sequence: 4,
    levels: Array.from({ length: 10 }, (_, i) => ({
      bid_px: BigInt(i),
      ask_px: UNDEF_PRICE,
      bid_sz: i,
      ask_sz: 2 * i,
      bid_ct: 3 * i,
      ask_ct: 4 * i
    }))
  },
  { _tag: "ohlcv", hd: hd(RType.OHLCV_1M, 56), open: 1n, high: 5n, low: -3n, close: 2n, volume: 2n ** 64n - 1n },
  {
    _tag: "status",
    hd: hd(RType.STATUS, 40),
    ts_recv: 5n,
    action: 7,
    reason: 2,
    trading_event: 3,
    is_trading: "Y",
    is_quoting: "N",
    is_short_sell_restricted: "~"
  },
  {
    _tag: "stat",
    hd: hd(RType.STATISTICS, 80),
    ts_recv: 1n,
    ts_ref: UNDEF_TIMESTAMP,
    price: 100000000000n,
    quantity: -(2n ** 40n),
    sequence: 4,
    ts_in_delta: 5,
    stat_type: 9,
    channel_id: 7,
    update_action: 1,
    stat_flags: 3
  },
  {
    _tag: "symbolMapping",
    hd: hd(RType.SYMBOL_MAPPING, 176),
    stype_in: 4,
    stype_in_symbol: "NQ.OPT",
    stype_out: 0,
    stype_out_symbol: "NQZ4 C20000",
    start_ts: 0n,
    end_ts: UNDEF_TIMESTAMP
  },
  { _tag: "system", hd: hd(RType.SYSTEM, 320), msg: "Heartbeat", code: 0, isHeartbeat: true },
  {
    _tag: "system",
    hd: hd(RType.SYSTEM, 320),
    msg: "Subscription request 1 for mbo data succeeded",
    code: 1,
    isHeartbeat: false
  },
  { _tag: "system", hd: hd(RType.SYSTEM, 320), msg: "x".repeat(302), code: 255, isHeartbeat: false },
  { _tag: "error", hd: hd(RType.ERROR, 320), err: "Failed to resolve symbol NQZ9", code: 4, is_last: 1 },
  { _tag: "error", hd: hd(RType.ERROR, 320), err: "", code: 255, is_last: 0 }
]

describe("Encoder round trips", () => {
  it("decodes every record type back to what was encoded", () => {
    assert.deepStrictEqual(roundTrip(SAMPLES), SAMPLES)
  })

  it("decodes every record type back with the ts_out suffix", () => {
    const withTs = SAMPLES.map((r, i) => ({
      ...withLength(r, r.hd.length + 8),
      ts_out: 1700000000000000000n + BigInt(i)
    }))
    assert.deepStrictEqual(roundTrip(withTs, true), withTs)
  })

  it("writes exactly the spec sizes per record type", () => {
    for (const r of SAMPLES) {
      assert.strictEqual(Encoder.encodeRecord(r).length, r.hd.length)
      assert.strictEqual(Encoder.encodeRecord(r, { tsOut: true }).length, r.hd.length + 8)
      assert.strictEqual(Encoder.encodeRecord(r)[0]! * 4, r.hd.length)
    }
  })

  it("writes the record's own rtype for OHLCV and the canonical one otherwise", () => {
    for (const r of SAMPLES) assert.strictEqual(Encoder.encodeRecord(r)[1], r.hd.rtype)
  })

  it("returns the bytes written from encodeMboInto and writes the same bytes as encodeRecord", () => {
    const buf = new Uint8Array(200)
    const view = new DataView(buf.buffer)
    assert.strictEqual(Encoder.encodeMboInto(view, 3, mbo(5)), 56)
    assert.deepStrictEqual(buf.subarray(3, 59), Encoder.encodeRecord(mbo(5)))
    assert.strictEqual(Encoder.encodeMboInto(view, 64, { ...mbo(6), ts_out: 9n }, true), 64)
    assert.deepStrictEqual(buf.subarray(64, 128), Encoder.encodeRecord({ ...mbo(6), ts_out: 9n }, { tsOut: true }))
  })

  it("rejects a string longer than its field with a RangeError", () => {
    assert.throws(
      () => Encoder.encodeRecord({ ...(SAMPLES[9] as SymbolMappingMsg), stype_in_symbol: "y".repeat(71) }),
      RangeError
    )
  })

  it("writes metadata as v3 with 71-byte symbols, padded to 8, matching the spec's worked length", () => {
    const m = metadata({
      version: 2,
      symbols: ["ESH1"],
      mappings: [{ raw_symbol: "ESH1", intervals: [{ start_date: 20201228, end_date: 20201229, symbol: "5482" }] }]
    })
    const bytes = Encoder.encodeMetadata(m)
    const dv = new DataView(bytes.buffer)
    assert.strictEqual(bytes[3], 3)
    assert.strictEqual(dv.getUint32(4, true), 352)
    assert.strictEqual(bytes.length, 360)
    const out = decodeWhole(bytes)
    assert.deepStrictEqual(out.metadata, { ...m, version: 3 })
    assert.strictEqual(out.finish, undefined)
  })

  it("writes null schema, stype_in and stype_out as their wire sentinels", () => {
    const m = metadata({ schema: null, stype_in: null, stype_out: null, end: UNDEF_TIMESTAMP, limit: 7n })
    assert.deepStrictEqual(decodeWhole(Encoder.encodeMetadata(m)).metadata, m)
  })
})

describe.skipIf(!fixturesPresent)("Encoder over the fixtures", () => {
  for (const file of allFixtures()) {
    it(`re-encodes every record and the metadata of ${file} as v3 and decodes them back unchanged`, () => {
      const bytes = dbnBytes(file)
      const out = decodeWhole(bytes, optionsFor(file))
      const expected = out.records.map((r) => withLength(r, v3Length(r)))
      assert.deepStrictEqual(roundTrip(out.records), expected)
      if (out.metadata !== undefined) {
        const again = decodeWhole(Encoder.encodeMetadata(out.metadata)).metadata
        assert.deepStrictEqual(again, { ...out.metadata, version: 3, symbol_cstr_len: 71 })
      }
    })
  }

  const v3Files = [
    "dbn/test_data.mbo.v3.dbn",
    "databento-python/LIVE/test_data.live.dbn.zst",
    "dbn/test_data.definition.v3.dbn.zst"
  ]
  for (const file of v3Files) {
    it(`re-encodes the v3 file ${file} byte for byte`, () => {
      const bytes = dbnBytes(file)
      const out = decodeWhole(bytes)
      const w = new Encoder.DbnWriter({ initialCapacity: 64 })
      w.metadata(out.metadata!)
      for (const r of out.records) w.record(r)
      assert.deepStrictEqual(w.toBytes(), bytes)
    })
  }

  it("re-encodes the rows of a decoded MBO batch byte for byte (mboRows)", () => {
    const bytes = dbnBytes("nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    const d = new DbnDecoder()
    d.push(bytes)
    const out = d.drain()
    const start = bytes.length - out.mbo.length * 56
    const w = new Encoder.DbnWriter({ initialCapacity: 1024 })
    w.mboRows(out.mbo)
    assert.deepStrictEqual(w.toBytes(), bytes.subarray(start))
  })
})

describe("DbnWriter", () => {
  it("writes metadata, MBO objects, batch rows and other records that decode back in order", () => {
    const batch = allocMboBatch(2)
    const d = new DbnDecoder()
    d.push(concat(Encoder.encodeMetadata(metadata()), Encoder.encodeRecord(mbo(10)), Encoder.encodeRecord(mbo(11))))
    const rows = d.drain().mbo
    for (const k of Object.keys(batch) as Array<keyof typeof batch>) {
      if (k !== "length") (batch[k] as Uint8Array).set(rows[k] as Uint8Array)
    }
    batch.length = 2
    const w = new Encoder.DbnWriter({ initialCapacity: 64 })
    w.metadata(metadata()).mbo(mbo(0)).record(SAMPLES[3]!).mboRow(batch, 0).mboRows(batch, 1, 2).record(mbo(1))
    const out = decodeWhole(w.toBytes())
    assert.deepStrictEqual(out.records, [mbo(0), SAMPLES[3], mbo(10), mbo(11), mbo(1)])
  })

  it("hands out chunks with takeChunk that concatenate to the whole stream, zeroing reused space", () => {
    const w = new Encoder.DbnWriter({ initialCapacity: 64 })
    const chunks: Array<Uint8Array> = []
    w.metadata(metadata())
    chunks.push(w.takeChunk())
    for (const r of SAMPLES) {
      w.record(r)
      if (r._tag === "stat") chunks.push(w.takeChunk())
    }
    chunks.push(w.takeChunk())
    assert.strictEqual(w.length, 0)
    const whole = new Encoder.DbnWriter()
    whole.metadata(metadata())
    for (const r of SAMPLES) whole.record(r)
    assert.deepStrictEqual(concat(...chunks), whole.toBytes())
    assert.deepStrictEqual(decodeWhole(concat(...chunks)).records, SAMPLES)
  })

  it("writes the ts_out suffix when the metadata says so", () => {
    const w = new Encoder.DbnWriter()
    w.metadata(metadata({ ts_out: true })).mbo({ ...mbo(0), ts_out: 5n })
    const d = new DbnDecoder()
    d.push(w.toBytes())
    const out = d.drain()
    assert.deepStrictEqual(mboAt(out.mbo, 0), { ...mbo(0), hd: { ...mbo(0).hd, length: 64 }, ts_out: 5n })
  })

  it("generates a large MBO file quickly enough for benches (1M rows)", () => {
    const w = new Encoder.DbnWriter({ initialCapacity: 1 << 16 })
    w.metadata(metadata())
    const b = allocMboBatch(1)
    b.length = 1
    for (let i = 0; i < 1_000_000; i++) {
      b.orderIdLo[0] = i
      b.action[0] = 65
      w.mboRow(b, 0)
    }
    assert.strictEqual(w.length, 128 + 56_000_000)
    const d = new DbnDecoder()
    d.push(w.toBytes())
    const out = d.drain()
    assert.strictEqual(out.mbo.length, 1_000_000)
    assert.strictEqual(out.mbo.orderIdLo[999_999], 999_999)
  })
})

describe("Layout", () => {
  it("pins the record sizes of spec §3 per version", () => {
    const table: ReadonlyArray<readonly [number, number, number, number]> = [
      [RType.MBO, 56, 56, 56],
      [RType.MBP_0, 48, 48, 48],
      [RType.MBP_1, 80, 80, 80],
      [RType.MBP_10, 368, 368, 368],
      [RType.OHLCV_1D, 56, 56, 56],
      [RType.STATUS, 40, 40, 40],
      [RType.INSTRUMENT_DEF, 360, 400, 520],
      [RType.STATISTICS, 64, 64, 80],
      [RType.ERROR, 80, 320, 320],
      [RType.SYMBOL_MAPPING, 80, 176, 176],
      [RType.SYSTEM, 80, 320, 320]
    ]
    for (const [rtype, v1, v2, v3] of table) {
      assert.deepStrictEqual([1, 2, 3].map((v) => Layout.recordSize(rtype, v)), [v1, v2, v3], `rtype ${rtype}`)
    }
    assert.strictEqual(Layout.recordSize(RType.IMBALANCE, 3), 0)
  })

  it("keeps every definition field inside its record and fields from overlapping", () => {
    for (const layout of [Layout.DefinitionV1, Layout.DefinitionV2, Layout.DefinitionV3]) {
      const used = new Uint8Array(layout.size)
      for (const f of layout.fields) {
        assert.isAtMost(f.offset + f.width, layout.size, f.name)
        for (let i = f.offset; i < f.offset + f.width; i++) {
          assert.strictEqual(used[i], 0, `${f.name} overlaps at ${i}`)
          used[i] = 1
        }
      }
    }
    assert.strictEqual(Layout.DefinitionV3.fields.length, 69)
  })

  it("covers every field of the v3 InstrumentDefMsg shape", () => {
    const bytes = Encoder.encodeRecord(defSample())
    const sample = decodeWhole(bytes, { fragment: { version: 3 } }).records[0] as InstrumentDefMsg
    const names = Object.keys(sample).filter((k) => k !== "_tag" && k !== "hd").sort()
    assert.deepStrictEqual(Layout.DefinitionV3.fields.map((f) => f.name).sort(), names)
  })
})

const defSample = (): InstrumentDefMsg => {
  const r: Record<string, unknown> = { _tag: "definition", hd: hd(RType.INSTRUMENT_DEF, 520) }
  for (const f of Layout.DefinitionV3.fields) {
    r[f.name] = f.type === "str" || f.type === "char" ? "" : f.type === "u64" || f.type === "i64" ? 0n : 0
  }
  return r as unknown as InstrumentDefMsg
}

