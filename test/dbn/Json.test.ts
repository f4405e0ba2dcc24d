import { assert, describe, it } from "@effect/vitest"
import { RType, UNDEF_PRICE, UNDEF_TIMESTAMP } from "../../src/dbn/Constants.js"
import * as Json from "../../src/dbn/Json.js"
import * as Layout from "../../src/dbn/Layout.js"
import type { InstrumentDefMsg, MboMsg } from "../../src/dbn/Records.js"
import { fixturesPresent } from "../support/Fixtures.js"
import { metadata } from "./builders.js"
import { allFixtures, dbnBytes, decodeWhole, optionsFor } from "./support.js"

// The expected lines follow the unit tests of dbn's JSON encoder (rust/dbn/src/encode/json/sync.rs @ 0.54),
// with prices and timestamps in their raw (not pretty) form, as `dbn --json` writes them by default.
const HD = { length: 56, rtype: 4, publisher_id: 1, instrument_id: 323, ts_event: 1658441851000000000n }
const HEADER_JSON = `"hd":{"ts_event":"1658441851000000000","rtype":4,"publisher_id":1,"instrument_id":323}`

describe("Json", () => {
  it("writes an MBO record like dbn: ts_recv, hd, then action/side/price/size/channel_id/order_id first", () => {
    const r: MboMsg = {
      _tag: "mbo",
      hd: HD,
      order_id: 16n,
      price: 5500n,
      size: 3,
      flags: 128,
      channel_id: 14,
      action: "R",
      side: "N",
      ts_recv: 1658441891000000000n,
      ts_in_delta: 22000,
      sequence: 1002375
    }
    assert.strictEqual(
      Json.recordToJson(r),
      `{"ts_recv":"1658441891000000000",${HEADER_JSON},"action":"R","side":"N","price":"5500","size":3,` +
        `"channel_id":14,"order_id":"16","flags":128,"ts_in_delta":22000,"sequence":1002375}`
    )
  })

  it("writes a trade and an mbp-1 record with depth after side and levels last", () => {
    const base = {
      hd: HD,
      price: 5500n,
      size: 3,
      action: "C",
      side: "B",
      flags: 128,
      depth: 9,
      ts_recv: 1658441891000000000n,
      ts_in_delta: 22000,
      sequence: 1002375
    }
    const fields = `"action":"C","side":"B","depth":9,"price":"5500","size":3,"flags":128,"ts_in_delta":22000,` +
      `"sequence":1002375`
    assert.strictEqual(
      Json.recordToJson({ _tag: "trade", ...base }),
      `{"ts_recv":"1658441891000000000",${HEADER_JSON},${fields}}`
    )
    const level = { bid_px: 372000000000000n, ask_px: 372500000000000n, bid_sz: 10, ask_sz: 5, bid_ct: 5, ask_ct: 2 }
    assert.strictEqual(
      Json.recordToJson({ _tag: "mbp1", ...base, levels: [level] }),
      `{"ts_recv":"1658441891000000000",${HEADER_JSON},${fields},"levels":[{"bid_px":"372000000000000",` +
        `"ask_px":"372500000000000","bid_sz":10,"ask_sz":5,"bid_ct":5,"ask_ct":2}]}`
    )
  })

  it("writes OHLCV, status and statistics records in dbn's field order", () => {
    assert.strictEqual(
      Json.recordToJson({ _tag: "ohlcv", hd: HD, open: 5000n, high: 8000n, low: 3000n, close: 6000n, volume: 55000n }),
      `{${HEADER_JSON},"open":"5000","high":"8000","low":"3000","close":"6000","volume":"55000"}`
    )
    assert.strictEqual(
      Json.recordToJson({
        _tag: "status",
        hd: HD,
        ts_recv: 1658441891000000000n,
        action: 1,
        reason: 2,
        trading_event: 3,
        is_trading: "Y",
        is_quoting: "Y",
        is_short_sell_restricted: "~"
      }),
      `{"ts_recv":"1658441891000000000",${HEADER_JSON},"action":1,"reason":2,"trading_event":3,"is_trading":"Y",` +
        `"is_quoting":"Y","is_short_sell_restricted":"~"}`
    )
    assert.strictEqual(
      Json.recordToJson({
        _tag: "stat",
        hd: HD,
        ts_recv: 1n,
        ts_ref: 2n,
        price: 3n,
        quantity: 0n,
        sequence: 4,
        ts_in_delta: 5,
        stat_type: 1,
        channel_id: 7,
        update_action: 1,
        stat_flags: 0
      }),
      `{"ts_recv":"1",${HEADER_JSON},"ts_ref":"2","price":"3","quantity":"0","sequence":4,"ts_in_delta":5,` +
        `"stat_type":1,"channel_id":7,"update_action":1,"stat_flags":0}`
    )
  })

  it("writes a definition in dbn's encode order with NUL chars as null", () => {
    const values: Record<string, unknown> = {
      ts_recv: 1658441891000000000n,
      min_price_increment: 100n,
      display_factor: 1000000000n,
      expiration: 1698450000000000000n,
      activation: 1697350000000000000n,
      high_limit_price: 1000000n,
      low_limit_price: -1000000n,
      max_price_variation: 0n,
      unit_of_measure_qty: 5000000000n,
      min_price_increment_amount: 5n,
      price_ratio: 10n,
      inst_attrib_value: 10,
      underlying_id: 256785,
      raw_instrument_id: 323n,
      market_depth_implied: 0,
      market_depth: 13,
      market_segment_id: 0,
      max_trade_vol: 10000,
      min_lot_size: 1,
      min_lot_size_block: 1000,
      min_lot_size_round_lot: 100,
      min_trade_vol: 1,
      contract_multiplier: 0,
      decay_quantity: 0,
      original_contract_size: 0,
      appl_id: 0,
      maturity_year: 0,
      decay_start_date: 0,
      channel_id: 4,
      currency: "USD",
      settl_currency: "USD",
      secsubtype: "",
      raw_symbol: "ESZ4 C4100",
      group: "EW",
      exchange: "XCME",
      asset: "ES",
      cfi: "OCAFPS",
      security_type: "OOF",
      unit_of_measure: "IPNT",
      underlying: "ESZ4",
      strike_price_currency: "USD",
      instrument_class: "C",
      strike_price: 4100000000000n,
      match_algorithm: "F",
      main_fraction: 4,
      price_display_format: 8,
      sub_fraction: 23,
      underlying_product: 10,
      security_update_action: "A",
      maturity_month: 8,
      maturity_day: 9,
      maturity_week: 11,
      user_defined_instrument: "N",
      contract_multiplier_unit: 0,
      flow_schedule_type: 5,
      tick_rule: 0,
      leg_count: 2,
      leg_index: 1,
      leg_instrument_id: 24,
      leg_raw_symbol: "",
      leg_instrument_class: "F",
      leg_side: "N",
      leg_price: UNDEF_PRICE,
      leg_delta: UNDEF_PRICE,
      leg_ratio_price_numerator: 0,
      leg_ratio_price_denominator: 0,
      leg_ratio_qty_numerator: 1,
      leg_ratio_qty_denominator: 2,
      leg_underlying_id: 25
    }
    const r = { _tag: "definition", hd: { ...HD, length: 520 }, ...values } as unknown as InstrumentDefMsg
    assert.strictEqual(
      Json.recordToJson(r),
      `{"ts_recv":"1658441891000000000",${HEADER_JSON},` +
        `"raw_symbol":"ESZ4 C4100","security_update_action":"A","instrument_class":"C","min_price_increment":"100",` +
        `"display_factor":"1000000000","expiration":"1698450000000000000","activation":"1697350000000000000",` +
        `"high_limit_price":"1000000","low_limit_price":"-1000000","max_price_variation":"0",` +
        `"unit_of_measure_qty":"5000000000","min_price_increment_amount":"5","price_ratio":"10",` +
        `"inst_attrib_value":10,"underlying_id":256785,"raw_instrument_id":"323","market_depth_implied":0,` +
        `"market_depth":13,"market_segment_id":0,"max_trade_vol":10000,"min_lot_size":1,"min_lot_size_block":1000,` +
        `"min_lot_size_round_lot":100,"min_trade_vol":1,"contract_multiplier":0,"decay_quantity":0,` +
        `"original_contract_size":0,"appl_id":0,"maturity_year":0,"decay_start_date":0,"channel_id":4,` +
        `"currency":"USD","settl_currency":"USD","secsubtype":"","group":"EW","exchange":"XCME","asset":"ES",` +
        `"cfi":"OCAFPS","security_type":"OOF","unit_of_measure":"IPNT","underlying":"ESZ4",` +
        `"strike_price_currency":"USD","strike_price":"4100000000000","match_algorithm":"F","main_fraction":4,` +
        `"price_display_format":8,"sub_fraction":23,"underlying_product":10,"maturity_month":8,"maturity_day":9,` +
        `"maturity_week":11,"user_defined_instrument":"N","contract_multiplier_unit":0,"flow_schedule_type":5,` +
        `"tick_rule":0,"leg_count":2,"leg_index":1,"leg_instrument_id":24,"leg_raw_symbol":"",` +
        `"leg_instrument_class":"F","leg_side":"N","leg_price":"9223372036854775807",` +
        `"leg_delta":"9223372036854775807","leg_ratio_price_numerator":0,"leg_ratio_price_denominator":0,` +
        `"leg_ratio_qty_numerator":1,"leg_ratio_qty_denominator":2,"leg_underlying_id":25}`
    )
    assert.strictEqual(JSON.parse(Json.recordToJson({ ...r, instrument_class: "" })).instrument_class, null)
    assert.strictEqual(Object.keys(JSON.parse(Json.recordToJson(r))).length, Layout.DefinitionV3.fields.length + 1)
  })

  it("writes symbol mapping, system and error messages with their codes, and ts_out last", () => {
    const hd = { ...HD, rtype: RType.SYMBOL_MAPPING, length: 184 }
    assert.strictEqual(
      Json.recordToJson({
        _tag: "symbolMapping",
        hd,
        stype_in: 4,
        stype_in_symbol: "NQ.OPT",
        stype_out: 0,
        stype_out_symbol: "NQZ4 C20000",
        start_ts: 1n,
        end_ts: UNDEF_TIMESTAMP,
        ts_out: 9n
      }),
      `{"hd":{"ts_event":"1658441851000000000","rtype":22,"publisher_id":1,"instrument_id":323},"stype_in":4,` +
        `"stype_in_symbol":"NQ.OPT","stype_out":0,"stype_out_symbol":"NQZ4 C20000","start_ts":"1",` +
        `"end_ts":"18446744073709551615","ts_out":"9"}`
    )
    assert.strictEqual(
      Json.recordToJson({ _tag: "system", hd: HD, msg: "Heartbeat \"quoted\"", code: 0, isHeartbeat: true }),
      `{${HEADER_JSON},"msg":"Heartbeat \\"quoted\\"","code":0}`
    )
    assert.strictEqual(
      Json.recordToJson({ _tag: "error", hd: HD, err: "Internal error", code: 6, is_last: 1 }),
      `{${HEADER_JSON},"err":"Internal error","code":6,"is_last":1}`
    )
  })

  it("writes metadata like dbn: names for schema/stype, null end and limit, dates as YYYYMMDD", () => {
    const m = metadata({
      version: 1,
      schema: 7,
      start: 1662734705128748281n,
      end: 1662734720914876944n,
      limit: 0n,
      stype_in: 0,
      stype_out: 1,
      symbol_cstr_len: 22,
      symbols: ["ESZ2"],
      mappings: [{ raw_symbol: "ESZ2", intervals: [{ start_date: 20220909, end_date: 20220910, symbol: "ESH2" }] }]
    })
    assert.strictEqual(
      Json.metadataToJson(m),
      `{"version":1,"dataset":"GLBX.MDP3","schema":"ohlcv-1h","start":"1662734705128748281",` +
        `"end":"1662734720914876944","limit":null,"stype_in":"instrument_id","stype_out":"raw_symbol",` +
        `"ts_out":false,"symbol_cstr_len":22,"symbols":["ESZ2"],"partial":[],"not_found":[],` +
        `"mappings":[{"raw_symbol":"ESZ2","intervals":[{"start_date":20220909,"end_date":20220910,"symbol":"ESH2"}]}]}`
    )
    const m2 = metadata({ schema: null, stype_in: null, end: UNDEF_TIMESTAMP, limit: 5n })
    const live = JSON.parse(Json.metadataToJson(m2))
    assert.deepStrictEqual([live.schema, live.stype_in, live.end, live.limit], [null, null, null, "5"])
  })
})

describe.skipIf(!fixturesPresent)("Json over the fixtures", () => {
  it("writes every record and metadata of every fixture as one valid JSON object per line", () => {
    for (const file of allFixtures()) {
      const out = decodeWhole(dbnBytes(file), optionsFor(file))
      if (out.metadata !== undefined) {
        assert.strictEqual(JSON.parse(Json.metadataToJson(out.metadata)).version, out.metadata.version)
      }
      for (const r of out.records) {
        const line = Json.recordToJson(r)
        assert.notInclude(line, "\n")
        const parsed = JSON.parse(line)
        assert.strictEqual(parsed.hd.rtype, r.hd.rtype)
        assert.strictEqual(parsed.hd.ts_event, String(r.hd.ts_event))
      }
    }
  })
})
