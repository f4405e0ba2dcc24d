import { assert, describe, it } from "@effect/vitest"
import { mboAt, u64 } from "../../../src/dbn/Batch.js"
import { UNDEF_PRICE, UNDEF_TIMESTAMP } from "../../../src/dbn/Constants.js"
import { DbnDecoder } from "../../../src/dbn/Decoder.js"
import type { InstrumentDefMsg, Mbp1Msg, StatMsg, SymbolMappingMsg, TradeMsg } from "../../../src/dbn/Records.js"
import { fixturesPresent, readFixture } from "../../support/Fixtures.js"
import { dbnBytes, decodeSplit, decodeWhole, optionsFor } from "../support.js"

const UNDEF_QTY_V3 = 9223372036854775807n

const once = (file: string) => {
  const d = new DbnDecoder(optionsFor(file))
  d.push(dbnBytes(file))
  return { decoder: d, out: d.drain() }
}

const ESH1_MBO_FILES = [
  ["databento-cpp/test_data.mbo.v1.dbn", 1, 198],
  ["dbn/test_data.mbo.v1.dbn.zst", 1, 198],
  ["dbn/test_data.mbo.dbn", 2, 345],
  ["dbn/test_data.mbo.v2.dbn.zst", 2, 345],
  ["dbn/test_data.mbo.v3.dbn", 3, 352],
  ["dbn/test_data.mbo.v3.dbn.zst", 3, 352]
] as const

describe.skipIf(!fixturesPresent)("DbnDecoder test vectors (spec §11)", () => {
  for (const [file, version, metaLength] of ESH1_MBO_FILES) {
    it(`decodes the ESH1 MBO metadata and both records of ${file} (v${version})`, () => {
      const bytes = dbnBytes(file)
      assert.strictEqual(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true), metaLength)
      const { decoder, out } = once(file)
      const m = out.metadata!
      assert.strictEqual(m.version, version)
      assert.strictEqual(m.dataset, "GLBX.MDP3")
      assert.strictEqual(m.schema, 0)
      assert.strictEqual(m.start, 1609160400000000000n)
      assert.strictEqual(m.end, 1609200000000000000n)
      assert.strictEqual(m.limit, 2n)
      assert.strictEqual(m.stype_in, 1)
      assert.strictEqual(m.stype_out, 0)
      assert.strictEqual(m.ts_out, false)
      assert.strictEqual(m.symbol_cstr_len, version === 1 ? 22 : 71)
      assert.deepStrictEqual(m.symbols, ["ESH1"])
      assert.deepStrictEqual(m.partial, [])
      assert.deepStrictEqual(m.not_found, [])
      assert.deepStrictEqual(m.mappings, [{
        raw_symbol: "ESH1",
        intervals: [{ start_date: 20201228, end_date: 20201229, symbol: "5482" }]
      }])
      assert.strictEqual(decoder.offset, 8 + metaLength + 2 * 56)
      assert.strictEqual(out.mbo.length, 2)
      assert.deepStrictEqual(mboAt(out.mbo, 0), {
        _tag: "mbo",
        hd: { length: 56, rtype: 0xa0, publisher_id: 1, instrument_id: 5482, ts_event: 1609160400000429831n },
        order_id: 647784973705n,
        price: 3722750000000n,
        size: 1,
        flags: 128,
        channel_id: 0,
        action: "C",
        side: "A",
        ts_recv: 1609160400000704060n,
        ts_in_delta: 22993,
        sequence: 1170352
      })
      const r2 = mboAt(out.mbo, 1)
      assert.strictEqual(r2.hd.ts_event, 1609160400000431665n)
      assert.strictEqual(r2.order_id, 647784973631n)
      assert.strictEqual(r2.price, 3723000000000n)
      assert.strictEqual(r2.size, 1)
      assert.strictEqual(r2.flags, 128)
      assert.strictEqual(r2.action, "C")
      assert.strictEqual(r2.side, "A")
      assert.strictEqual(r2.ts_recv, 1609160400000711344n)
      assert.strictEqual(r2.ts_in_delta, 19621)
      assert.strictEqual(r2.sequence, 1170353)
      // The batch columns themselves: price as a double, 64-bit fields as exact halves.
      assert.strictEqual(out.mbo.price[0], 3722750000000)
      assert.strictEqual(u64(out.mbo.tsEventHi[0]!, out.mbo.tsEventLo[0]!), 1609160400000429831n)
      assert.strictEqual(u64(out.mbo.orderIdHi[1]!, out.mbo.orderIdLo[1]!), 647784973631n)
      assert.strictEqual(String.fromCharCode(out.mbo.action[0]!, out.mbo.side[0]!), "CA")
    })

    it(`reports the end of the metadata at byte ${8 + metaLength} of ${file}`, () => {
      const bytes = dbnBytes(file)
      const d = new DbnDecoder()
      d.push(bytes.subarray(0, 8 + metaLength))
      const out = d.drain()
      assert.strictEqual(out.metadata?.version, version)
      assert.strictEqual(d.offset, 8 + metaLength)
      assert.strictEqual(d.finish(), undefined)
    })
  }

  for (const file of ["dbn/test_data.mbp-1.v1.dbn.zst", "dbn/test_data.mbp-1.dbn", "dbn/test_data.mbp-1.v3.dbn.zst"]) {
    it(`decodes the two mbp-1 records of ${file}`, () => {
      const { out } = once(file)
      assert.strictEqual(out.metadata!.schema, 1)
      const [a, b] = out.others as ReadonlyArray<Mbp1Msg>
      assert.deepStrictEqual(a, {
        _tag: "mbp1",
        hd: { length: 80, rtype: 1, publisher_id: 1, instrument_id: 5482, ts_event: 1609160400006001487n },
        price: 3720500000000n,
        size: 1,
        action: "A",
        side: "A",
        flags: 128,
        depth: 0,
        ts_recv: 1609160400006136329n,
        ts_in_delta: 17214,
        sequence: 1170362,
        levels: [{ bid_px: 3720250000000n, ask_px: 3720500000000n, bid_sz: 24, ask_sz: 11, bid_ct: 15, ask_ct: 9 }]
      })
      assert.strictEqual(b!.hd.ts_event, 1609160400006146661n)
      assert.strictEqual(b!.price, 3720500000000n)
      assert.strictEqual(b!.ts_recv, 1609160400006246513n)
      assert.strictEqual(b!.ts_in_delta, 18858)
      assert.strictEqual(b!.sequence, 1170364)
      assert.deepStrictEqual(b!.levels[0], {
        bid_px: 3720250000000n,
        ask_px: 3720500000000n,
        bid_sz: 24,
        ask_sz: 12,
        bid_ct: 15,
        ask_ct: 10
      })
    })
  }

  const tradeFiles = ["dbn/test_data.trades.v1.dbn.zst", "dbn/test_data.trades.dbn", "dbn/test_data.trades.v3.dbn.zst"]
  for (const file of tradeFiles) {
    it(`decodes the two trades of ${file}`, () => {
      const { out } = once(file)
      assert.strictEqual(out.metadata!.schema, 4)
      const [a, b] = out.others as ReadonlyArray<TradeMsg>
      assert.deepStrictEqual(a, {
        _tag: "trade",
        hd: { length: 48, rtype: 0, publisher_id: 1, instrument_id: 5482, ts_event: 1609160400098821953n },
        price: 3720250000000n,
        size: 5,
        action: "T",
        side: "A",
        flags: 129,
        depth: 0,
        ts_recv: 1609160400099150057n,
        ts_in_delta: 19251,
        sequence: 1170380
      })
      assert.strictEqual(b!.hd.ts_event, 1609160400107665963n)
      assert.strictEqual(b!.price, 3720250000000n)
      assert.strictEqual(b!.size, 21)
      assert.strictEqual(b!.side, "A")
      assert.strictEqual(b!.flags, 129)
      assert.strictEqual(b!.ts_recv, 1609160400108142648n)
      assert.strictEqual(b!.ts_in_delta, 20728)
      assert.strictEqual(b!.sequence, 1170414)
    })
  }

  for (const [file, version] of [
    ["dbn/test_data.definition.v1.dbn.zst", 1],
    ["databento-cpp/test_data.definition.v1.dbn", 1],
    ["dbn/test_data.definition.dbn", 2],
    ["dbn/test_data.definition.v2.dbn.zst", 2],
    ["dbn/test_data.definition.v3.dbn.zst", 3]
  ] as const) {
    it(`decodes the XNAS MSFT definitions of ${file} (v${version}) in the v3 shape`, () => {
      const { out } = once(file)
      const m = out.metadata!
      assert.strictEqual(m.dataset, "XNAS.ITCH")
      assert.strictEqual(m.start, 1633305600000000000n)
      assert.strictEqual(m.end, 1641254400000000000n)
      assert.strictEqual(m.limit, 2n)
      assert.deepStrictEqual(m.symbols, ["MSFT"])
      assert.strictEqual(m.mappings.length, 1)
      assert.strictEqual(m.mappings[0]!.intervals.length, 62)
      assert.deepStrictEqual(m.mappings[0]!.intervals[0], { start_date: 20211004, end_date: 20211005, symbol: "6819" })
      const defs = out.others as ReadonlyArray<InstrumentDefMsg>
      assert.deepStrictEqual(defs.map((d) => d.hd.instrument_id), [6819, 6830])
      for (const d of defs) {
        assert.strictEqual(d.hd.length, [360, 400, 520][version - 1])
        assert.strictEqual(d.exchange, "XNAS")
        assert.strictEqual(d.raw_symbol, "MSFT")
        assert.strictEqual(d.security_update_action, "A")
        assert.strictEqual(d.min_lot_size_round_lot, 100)
        assert.strictEqual(d.instrument_class, "K")
        assert.strictEqual(d.strike_price, UNDEF_PRICE)
        if (version < 3) {
          // Fields v1/v2 lack take Databento's v3 defaults.
          assert.strictEqual(d.leg_price, UNDEF_PRICE)
          assert.strictEqual(d.leg_count, 0)
          assert.strictEqual(d.leg_side, "N")
          assert.strictEqual(d.leg_raw_symbol, "")
        }
      }
    })
  }

  for (const version of [1, 2, 3] as const) {
    it(`decodes the GEM3/ESH1 option definitions of the v${version} fragment`, () => {
      const file = `dbn/test_data.definition.v${version}.dbn.frag`
      const out = decodeWhole(dbnBytes(file), optionsFor(file))
      assert.strictEqual(out.metadata, undefined)
      const [a, b] = out.records as ReadonlyArray<InstrumentDefMsg>
      assert.strictEqual(a!.hd.instrument_id, 31778)
      assert.strictEqual(a!.raw_symbol, "GEM3 P9812")
      assert.strictEqual(a!.instrument_class, "P")
      assert.strictEqual(a!.security_type, "OOF")
      assert.strictEqual(a!.asset, "GE")
      assert.strictEqual(a!.underlying, "GEM3")
      assert.strictEqual(a!.underlying_id, 21230)
      assert.strictEqual(a!.strike_price, 9812500000000n)
      assert.strictEqual(a!.expiration, 1687168800000000000n)
      assert.strictEqual(a!.min_price_increment, 500000000n)
      assert.strictEqual(a!.unit_of_measure_qty, 2500000000000n)
      assert.strictEqual(a!.channel_id, 3)
      assert.strictEqual(a!.match_algorithm, "Q")
      assert.strictEqual(b!.hd.instrument_id, 688141)
      assert.strictEqual(b!.raw_symbol, "ESH1 P2250")
      assert.strictEqual(b!.instrument_class, "P")
      assert.strictEqual(b!.security_type, "OOF")
      assert.strictEqual(b!.asset, "ES")
      assert.strictEqual(b!.group, "EW")
      assert.strictEqual(b!.exchange, "XCME")
      assert.strictEqual(b!.underlying, "ESH1")
      assert.strictEqual(b!.underlying_id, 5482)
      assert.strictEqual(b!.strike_price, 2250000000000n)
      assert.strictEqual(b!.expiration, 1616160600000000000n)
      assert.strictEqual(b!.min_price_increment, UNDEF_PRICE)
      assert.strictEqual(b!.display_factor, 10000000n)
      assert.strictEqual(b!.unit_of_measure_qty, 50000000000n)
      assert.strictEqual(b!.unit_of_measure, "IPNT")
    })
  }

  it("decodes the same option definitions from v1, v2 and v3 fragments, apart from length and v3-only fields", () => {
    const strip = (file: string) =>
      decodeWhole(dbnBytes(file), optionsFor(file)).records.map((r) => {
        const { hd, raw_instrument_id: _r, ...rest } = r as InstrumentDefMsg
        return { ...rest, hd: { ...hd, length: 0 } }
      })
    const v1 = strip("dbn/test_data.definition.v1.dbn.frag")
    assert.deepStrictEqual(strip("dbn/test_data.definition.v2.dbn.frag"), v1)
    const v3 = strip("dbn/test_data.definition.v3.dbn.frag")
    assert.deepStrictEqual(v3.map((d) => [d.raw_symbol, d.strike_price]), v1.map((d) => [d.raw_symbol, d.strike_price]))
  })

  it("decodes the eight single-record zstd frames of the multi-frame fragment", () => {
    const file = "dbn/multi-frame.definition.v1.dbn.frag.zst"
    const out = decodeWhole(dbnBytes(file), optionsFor(file))
    assert.deepStrictEqual(
      out.records.map((r) => r.hd.instrument_id),
      [31778, 688141, 458765, 720907, 688150, 753686, 360466, 327703]
    )
  })

  for (const version of [1, 2, 3]) {
    it(`decodes the statistics of v${version} with quantity widened to the v3 UNDEF`, () => {
      const { out } = once(`dbn/test_data.statistics.v${version}.dbn.zst`)
      const m = out.metadata!
      assert.strictEqual(m.stype_in, 0)
      assert.strictEqual(m.start, 2814749767106560n)
      assert.strictEqual(m.end, UNDEF_TIMESTAMP)
      const [a, b] = out.others as ReadonlyArray<StatMsg>
      assert.strictEqual(a!.hd.length, version === 3 ? 80 : 64)
      assert.strictEqual(a!.hd.instrument_id, 146945)
      assert.strictEqual(a!.stat_type, 7)
      assert.strictEqual(a!.price, 100000000000n)
      assert.strictEqual(a!.quantity, UNDEF_QTY_V3)
      assert.strictEqual(b!.stat_type, 5)
      assert.strictEqual(b!.price, 100000000000n)
      assert.strictEqual(b!.quantity, UNDEF_QTY_V3)
    })
  }

  it("decodes the python v3 MBO snapshot file (191 compressed bytes, 4 Adds)", () => {
    assert.strictEqual(readFixture("databento-python/GLBX.MDP3/test_data.mbo.dbn.zst").length, 191)
    const { out } = once("databento-python/GLBX.MDP3/test_data.mbo.dbn.zst")
    assert.strictEqual(out.metadata!.version, 3)
    assert.strictEqual(out.metadata!.start, 1609113600000000000n)
    assert.strictEqual(out.metadata!.limit, 4n)
    const rows = Array.from({ length: out.mbo.length }, (_, i) => mboAt(out.mbo, i))
    for (const r of rows) {
      assert.strictEqual(r.ts_recv, 1609113600000000000n)
      assert.strictEqual(r.hd.ts_event, 1609099225061045683n)
      assert.strictEqual(r.hd.instrument_id, 5482)
      assert.strictEqual(r.action, "A")
      assert.strictEqual(r.side, "B")
      assert.strictEqual(r.flags, 40)
      assert.strictEqual(r.ts_in_delta, 0)
    }
    assert.deepStrictEqual(rows.map((r) => [r.order_id, r.price, r.size, r.sequence]), [
      [647784248135n, 3675750000000n, 2, 1180],
      [647782686353n, 3675500000000n, 1, 1160],
      [647782884482n, 3675250000000n, 1, 1166],
      [647782912367n, 3675000000000n, 1, 1166]
    ])
  })

  it("decodes the LIVE stream: null schema/stype_in, 46 records in order, mappings for ESZ4", () => {
    const file = "databento-python/LIVE/test_data.live.dbn.zst"
    const bytes = dbnBytes(file)
    assert.strictEqual(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true), 120)
    const out = decodeWhole(bytes)
    const m = out.metadata!
    assert.strictEqual(m.version, 3)
    assert.strictEqual(m.schema, null)
    assert.strictEqual(m.stype_in, null)
    assert.strictEqual(m.start, 0n)
    assert.strictEqual(m.end, UNDEF_TIMESTAMP)
    assert.deepStrictEqual([m.symbols, m.partial, m.not_found, m.mappings], [[], [], [], []])
    assert.strictEqual(out.records.length, 46)
    const maps = out.records.filter((r): r is SymbolMappingMsg => r._tag === "symbolMapping")
    assert.strictEqual(maps.length, 20)
    for (const r of maps) {
      assert.strictEqual(r.hd.instrument_id, 183748)
      assert.strictEqual(r.stype_in_symbol, "ESZ4")
      assert.strictEqual(r.stype_out_symbol, "ESZ4")
      assert.strictEqual(r.start_ts, UNDEF_TIMESTAMP)
      assert.strictEqual(r.end_ts, UNDEF_TIMESTAMP)
    }
    for (const r of out.records) assert.strictEqual(r.hd.instrument_id, 183748)
  })

  it("yields one LIVE record fewer and a Truncated from finish() when the last 8 bytes are dropped", () => {
    const bytes = dbnBytes("databento-python/LIVE/test_data.live.dbn.zst")
    const cut = bytes.subarray(0, bytes.length - 8)
    const out = decodeWhole(cut)
    assert.strictEqual(out.records.length, 45)
    assert.strictEqual(out.fatal, undefined)
    assert.strictEqual(out.finish?.reason, "Truncated")
    const full = decodeWhole(bytes)
    const lastLength = full.records[45]!.hd.length
    assert.strictEqual(out.finish?.offset, bytes.length - lastLength)
  })

  it("decodes the v3 ESU6 option definitions of nautilus_trader", () => {
    const { out } = once("nautilus_trader/test_data.definition.option.dbn.zst")
    const [c, p] = out.others as ReadonlyArray<InstrumentDefMsg>
    assert.strictEqual(c!.raw_symbol, "ESU6 C9600")
    assert.strictEqual(c!.instrument_class, "C")
    assert.strictEqual(c!.strike_price, 9600000000000n)
    assert.strictEqual(c!.underlying, "ESU6")
    assert.strictEqual(c!.expiration, 1789738200000000000n)
    assert.strictEqual(c!.unit_of_measure_qty, 50000000000n)
    assert.strictEqual(c!.hd.instrument_id, 42684292)
    assert.strictEqual(p!.raw_symbol, "ESU6 P6575")
    assert.strictEqual(p!.instrument_class, "P")
    assert.strictEqual(p!.strike_price, 6575000000000n)
    assert.strictEqual(p!.hd.instrument_id, 42846039)
  })

  it("decodes the 850,684-byte ES.OPT metadata: 11,294 mappings and 8,429 partial symbols", () => {
    const file = "nautilus_trader/definition-glbx-es-opt.dbn.zst"
    const bytes = dbnBytes(file)
    assert.strictEqual(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true), 850684)
    for (const cuts of [[], [100, 425_000, 850_000]]) {
      const out = decodeSplit(bytes, cuts)
      const m = out.metadata!
      assert.strictEqual(m.version, 1)
      assert.deepStrictEqual(m.symbols, ["ES.OPT"])
      assert.strictEqual(m.stype_in, 4)
      assert.strictEqual(m.mappings.length, 11294)
      assert.strictEqual(m.partial.length, 8429)
      const defs = out.records as ReadonlyArray<InstrumentDefMsg>
      assert.deepStrictEqual(defs.map((d) => [d.raw_symbol, d.hd.instrument_id]), [["ESM4 C4250", 4161490], [
        "ESM4 C3550",
        4161489
      ]])
      assert.strictEqual(defs[0]!.strike_price, 4250000000000n)
    }
  })

  it("decodes the ESH4 day: last record ts_recv and sequence", () => {
    const { out } = once("nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    const last = mboAt(out.mbo, out.mbo.length - 1)
    assert.strictEqual(out.mbo.length, 68792)
    assert.strictEqual(last.ts_recv, 1703548799446821072n)
    assert.strictEqual(last.sequence, 59585)
    assert.strictEqual(last.hd.instrument_id, 17077)
  })

  it("keeps the exact UNDEF_PRICE bits and NaN in the price column for the leading Clear of the ESM4 file", () => {
    const { out } = once("nautilus_trader/orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst")
    const r = mboAt(out.mbo, 0)
    assert.strictEqual(r.action, "R")
    assert.strictEqual(r.flags, 40)
    assert.strictEqual(r.order_id, 0n)
    assert.strictEqual(r.price, UNDEF_PRICE)
    assert.strictEqual(r.size, 0)
    assert.strictEqual(r.side, "N")
    assert.isTrue(Number.isNaN(out.mbo.price[0]!))
    assert.strictEqual(out.mbo.priceHi[0], 0x7fffffff)
    assert.strictEqual(out.mbo.priceLo[0], 0xffffffff)
    assert.isFalse(Number.isNaN(out.mbo.price[1]!))
  })

  it("finds the 120 trades of the ESU4 trades file among the mbp-1 'T' records", () => {
    const trades = once("nautilus_trader/futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst").out
      .others as ReadonlyArray<TradeMsg>
    const mbp = once("nautilus_trader/futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst").out
      .others as ReadonlyArray<Mbp1Msg>
    const ts = mbp.filter((r) => r.action === "T")
    assert.strictEqual(trades.length, 120)
    assert.deepStrictEqual(
      trades.map((t) => [t.hd.ts_event, t.price, t.size, t.side, t.sequence]),
      ts.map((t) => [t.hd.ts_event, t.price, t.size, t.side, t.sequence])
    )
    const first = trades[0]!
    assert.deepStrictEqual([first.hd.ts_event, first.price, first.size, first.side, first.sequence], [
      1719878281218218853n,
      5528750000000n,
      2,
      "B",
      9060643
    ])
  })
})
