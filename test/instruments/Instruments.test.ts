import { assert, describe, it } from "@effect/vitest"
import { UNDEF_TIMESTAMP } from "../../src/dbn/Constants.js"
import type { InstrumentDefMsg } from "../../src/dbn/Records.js"
import { fromDefinition, Instruments, utcDate } from "../../src/instruments/Instruments.js"
import { fixturesPresent } from "../support/Fixtures.js"
import { decodeFixture, definition, type DefinitionSpec } from "../book/support.js"

const definitionsIn = (file: string, fragment?: 1 | 2 | 3): Array<InstrumentDefMsg> =>
  decodeFixture(file, 65_536, fragment === undefined ? {} : { fragment: { version: fragment } })
    .flatMap((c) => c.others)
    .filter((r): r is InstrumentDefMsg => r._tag === "definition")

describe("Instruments", () => {
  it("reads strike, call/put, expiration, underlying, tick and multiplier from an option definition", () => {
    const i = fromDefinition(definition({ instrument: 7, cls: "P", strike: 17_250.5, symbol: "NQH4 P17250.5" }))
    assert.strictEqual(i.instrumentId, 7)
    assert.strictEqual(i.optionType, "P")
    assert.strictEqual(i.strike, 17_250.5)
    assert.strictEqual(i.expirationNs, 1_710_509_400_000_000_000n)
    assert.strictEqual(i.expiration, "2024-03-15")
    assert.strictEqual(i.underlying, "NQH4")
    assert.strictEqual(i.rawSymbol, "NQH4 P17250.5")
    assert.isUndefined(i.tickSize)
    assert.strictEqual(i.multiplier, 20)
    assert.isUndefined(i.maxTradeVol)
    assert.isTrue(i.windowed)
  })

  it("takes the multiplier from unit_of_measure_qty, else contract_multiplier, else 1", () => {
    const undef = 9223372036854775807n
    const multiplier = (spec: Partial<DefinitionSpec>) =>
      fromDefinition(definition({ instrument: 1, strike: 1, ...spec })).multiplier
    assert.strictEqual(multiplier({ unitOfMeasureQty: 50_000_000_000n }), 50)
    assert.strictEqual(multiplier({ unitOfMeasureQty: undef, contractMultiplier: 5 }), 5)
    assert.strictEqual(multiplier({ unitOfMeasureQty: undef }), 1)
  })

  it("knows futures but gives them no windows", () => {
    const f = fromDefinition(
      definition({ instrument: 9, cls: "F", symbol: "NQH4", tick: 250_000_000n, maxTradeVol: 2000 })
    )
    assert.isUndefined(f.optionType)
    assert.isNaN(f.strike)
    assert.strictEqual(f.tickSize, 0.25)
    assert.strictEqual(f.maxTradeVol, 2000)
    assert.isFalse(f.windowed)
  })

  it("gives no windows to an option without a strike or an expiration, and counts it", () => {
    const ins = new Instruments()
    ins.apply(definition({ instrument: 1, cls: "C" }))
    ins.apply(definition({ instrument: 2, cls: "C", strike: 100, expiration: UNDEF_TIMESTAMP }))
    assert.isFalse(ins.get(1)!.windowed)
    assert.isFalse(ins.get(2)!.windowed)
    assert.strictEqual(ins.get(2)!.expiration, "")
    assert.strictEqual(ins.counts.incompleteOptions, 2)
  })

  it("adds, modifies and deletes by security_update_action", () => {
    const ins = new Instruments()
    assert.strictEqual(ins.apply(definition({ instrument: 5, strike: 100 })), "added")
    assert.strictEqual(ins.apply(definition({ instrument: 5, strike: 100, action: "M", maxTradeVol: 500 })), "modified")
    assert.strictEqual(ins.get(5)!.maxTradeVol, 500)
    assert.strictEqual(ins.apply(definition({ instrument: 5, action: "D" })), "deleted")
    assert.isUndefined(ins.get(5))
    assert.strictEqual(ins.apply(definition({ instrument: 6, action: "D" })), "deleteUnknown")
    assert.strictEqual(ins.apply(definition({ instrument: 5, strike: 100, action: "M" })), "added")
    assert.deepStrictEqual(ins.counts, {
      definitions: 5,
      added: 2,
      modified: 1,
      deleted: 1,
      deleteUnknown: 1,
      incompleteOptions: 0,
      mappings: 0
    })
    assert.strictEqual(ins.size, 1)
  })

  it("names instruments from symbol mappings when no definition has", () => {
    const ins = new Instruments()
    ins.applyMapping({
      _tag: "symbolMapping",
      hd: { length: 176, rtype: 0x16, publisher_id: 1, instrument_id: 183748, ts_event: 0n },
      stype_in: 1,
      stype_in_symbol: "NQ.OPT",
      stype_out: 0,
      stype_out_symbol: "NQZ4 C21000",
      start_ts: 0n,
      end_ts: UNDEF_TIMESTAMP
    })
    assert.strictEqual(ins.symbolOf(183748), "NQZ4 C21000")
    assert.isFalse(ins.has(183748))
  })

  it("dates expirations in UTC, including just before midnight", () => {
    assert.strictEqual(utcDate(1_710_547_199_999_999_999n), "2024-03-15")
    assert.strictEqual(utcDate(1_710_547_200_000_000_000n), "2024-03-16")
  })
})

describe.skipIf(!fixturesPresent)("Instruments over real definitions", () => {
  it("reads the v3 ESU6 option definitions", () => {
    const ins = new Instruments()
    for (const d of definitionsIn("nautilus_trader/test_data.definition.option.dbn.zst")) ins.apply(d)
    const [call, put] = ins.options().sort((a, b) => a.rawSymbol.localeCompare(b.rawSymbol))
    assert.strictEqual(call!.rawSymbol, "ESU6 C9600")
    assert.strictEqual(call!.optionType, "C")
    assert.strictEqual(call!.strike, 9600)
    assert.strictEqual(call!.expirationNs, 1_789_738_200_000_000_000n)
    assert.strictEqual(call!.expiration, "2026-09-18")
    assert.strictEqual(call!.underlying, "ESU6")
    assert.strictEqual(call!.multiplier, 50)
    assert.strictEqual(put!.rawSymbol, "ESU6 P6575")
    assert.strictEqual(put!.optionType, "P")
    assert.strictEqual(put!.strike, 6575)
  })

  it("reads the v1 GE and ES option fragments, tick UNDEF included", () => {
    const ins = new Instruments()
    for (const d of definitionsIn("dbn/test_data.definition.v1.dbn.frag", 1)) ins.apply(d)
    const ge = ins.get(31778)!
    assert.strictEqual(ge.rawSymbol, "GEM3 P9812")
    assert.strictEqual(ge.strike, 9812.5)
    assert.strictEqual(ge.tickSize, 0.5)
    assert.strictEqual(ge.multiplier, 2500)
    const es = ins.get(688141)!
    assert.strictEqual(es.rawSymbol, "ESH1 P2250")
    assert.strictEqual(es.strike, 2250)
    assert.isUndefined(es.tickSize)
    assert.strictEqual(es.multiplier, 50)
    assert.strictEqual(es.expiration, "2021-03-19")
    assert.strictEqual(es.underlyingId, 5482)
  })

  it("knows option spreads but gives them no windows", () => {
    const ins = new Instruments()
    for (const d of definitionsIn("nautilus_trader/test_data.definition.option_spread.dbn.zst")) ins.apply(d)
    assert.strictEqual(ins.size, 2)
    for (const i of ins.values()) {
      assert.include(["T", "M"], i.instrumentClass)
      assert.isFalse(i.windowed)
    }
  })
})
