import { assert, describe, it } from "@effect/vitest"
import type { DecodedChunk } from "../../src/dbn/Batch.js"
import { FlowEngine } from "../../src/flow/Engine.js"
import { fixturesPresent } from "../support/Fixtures.js"
import { decodeFixture } from "../book/support.js"

const ESH4 = "nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
const ESM4 = "nautilus_trader/orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst"
const ESM4_DEFINITION = "nautilus_trader/orderbooks_definition.dbn.zst"

/** Runs an engine with trade collection; returns it and the trades as rows [aggressor byte, size, side, rule]. */
const runEngine = (chunks: ReadonlyArray<DecodedChunk>) => {
  const engine = new FlowEngine({ collectTrades: true })
  const trades: Array<[number, number, number, number]> = []
  const flagged: Array<string> = []
  for (const c of chunks) {
    const out = engine.apply(c)
    const t = out.trades!
    for (let i = 0; i < t.length; i++) trades.push([t.aggressor[i]!, t.size[i]!, t.side[i]!, t.rule[i]!])
    for (const f of out.flagged) flagged.push(`${f.reason} ${f.sequence}`)
  }
  return { engine, trades, flagged }
}

const byAggressor = (trades: ReadonlyArray<[number, number, number, number]>) => {
  const out: Record<string, { volume: number; prints: number }> = {}
  for (const [side, size] of trades) {
    const e = (out[String.fromCharCode(side)] ??= { volume: 0, prints: 0 })
    e.volume += size
    e.prints++
  }
  return out
}

describe.skipIf(!fixturesPresent)("FlowEngine over real GLBX MBO files (spec §11)", () => {
  it("reproduces the ESH4 2023-12-25 book and classifies every print by its aggressor side", () => {
    const { engine, trades, flagged } = runEngine(decodeFixture(ESH4))
    const book = engine.book(17077)!
    assert.deepStrictEqual(
      [book.orderCount, book.bidLevels, book.askLevels, book.bestBidPrice, book.bestBidSize, book.bestBidCount],
      [11_217, 922, 565, 4_810_000_000_000, 22, 22]
    )
    assert.deepStrictEqual([book.bestAskPrice, book.bestAskSize, book.bestAskCount], [4_810_250_000_000, 28, 18])
    assert.deepStrictEqual(byAggressor(trades), {
      B: { volume: 5_322, prints: 1_542 },
      A: { volume: 4_526, prints: 1_430 },
      N: { volume: 44, prints: 1 }
    })
    const s = engine.stats
    assert.strictEqual(s.records, 68_792)
    assert.strictEqual(s.trades, 2_973)
    assert.strictEqual(s.fills, 6_371)
    assert.deepStrictEqual(s.volumeBySide, { buy: 5_322, sell: 4_526, unknown: 44 })
    assert.deepStrictEqual(s.tradesByRule, { none: 1, aggressor: 2_972, quote: 0, tick: 0 })
    // No definitions in this file: every record is of an unknown instrument, and nothing is windowed.
    assert.strictEqual(s.unknownInstrumentRecords, 68_792)
    assert.strictEqual(s.unknownInstruments, 1)
    assert.deepStrictEqual(engine.flush(), [])
    // The side-N print is the 23:00 UTC opening auction, against a crossed pre-open book: no rule can decide it.
    assert.deepStrictEqual(flagged, ["UndecidedDirection 6000"])
    const b = s.book
    assert.strictEqual(b.unknownCancels + b.unknownModifies + b.duplicateAdds + b.negativeSizes, 0)
  })

  it("gives the same counters and trades whatever the decode piece size", () => {
    const whole = runEngine(decodeFixture(ESH4, 1 << 22))
    const small = runEngine(decodeFixture(ESH4, 997))
    const json = (x: unknown) => JSON.parse(JSON.stringify(x))
    assert.deepStrictEqual(json(small.engine.stats), json(whole.engine.stats))
    assert.deepStrictEqual(small.trades, whole.trades)
    assert.deepStrictEqual(small.flagged, whole.flagged)
  })

  it("knows the ESM4 future from its definition and gives it no windows", () => {
    const { engine, trades } = runEngine([...decodeFixture(ESM4_DEFINITION), ...decodeFixture(ESM4)])
    const s = engine.stats
    assert.strictEqual(s.definitions, 1)
    assert.strictEqual(engine.instruments.get(5602)!.rawSymbol, "ESM4")
    assert.strictEqual(engine.instruments.get(5602)!.multiplier, 50)
    assert.strictEqual(s.unknownInstrumentRecords, 0)
    assert.deepStrictEqual(byAggressor(trades), { B: { volume: 6, prints: 5 } })
    assert.deepStrictEqual(s.volumeBySide, { buy: 6, sell: 0, unknown: 0 })
    assert.strictEqual(engine.book(5602)!.orderCount, 13_598)
    assert.deepStrictEqual(engine.flush(), [])
  })
})
