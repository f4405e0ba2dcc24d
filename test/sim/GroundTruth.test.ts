import { assert, describe, it } from "@effect/vitest"
import { u64 } from "../../src/dbn/Batch.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import { FlowEngine, type TradeBatch } from "../../src/flow/Engine.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import { simulate, type SimParams } from "../../src/sim/Simulator.js"
import { compareWindows, DIR_BUY, DIR_SELL, RULE_AGGRESSOR, RULE_QUOTE } from "../../src/sim/Truth.js"
import { windowDiffs } from "./support.js"

const shapes: ReadonlyArray<{ readonly name: string; readonly params: Partial<SimParams> }> = [
  {
    name: "one expiration, five strikes",
    params: {
      seed: 101,
      expirations: 1,
      strikesPerExpiration: 5,
      sessionMinutes: 45,
      targetRecords: 30_000,
      episodes: 2
    }
  },
  {
    name: "two expirations, twenty strikes",
    params: {
      seed: 202,
      expirations: 2,
      strikesPerExpiration: 20,
      sessionMinutes: 120,
      targetRecords: 120_000,
      episodes: 3
    }
  },
  {
    name: "four expirations, forty strikes, full session",
    params: { seed: 303, expirations: 4, strikesPerExpiration: 40, targetRecords: 300_000 }
  },
  {
    name: "three expirations, 25-point strikes, daylight time",
    params: {
      seed: 404,
      date: "2026-07-15",
      expirations: 3,
      strikesPerExpiration: 30,
      strikeSpacing: 25,
      sessionMinutes: 200,
      targetRecords: 150_000
    }
  }
]

const keyOf = (w: PressureWindow) => `${w.windowStart}|${w.expiration}|${w.strike}|${w.optionType}`

describe.each(shapes)("pipeline against the simulator's ground truth: $name", ({ params }) => {
  it("pipeline reproduces ground truth window by window, and every trade's direction and rule", () => {
    const session = simulate(params)
    const decoder = new DbnDecoder()
    const engine = new FlowEngine({ collectTrades: true })
    // A window may be emitted again after a late update; the last emission is the final one.
    const rows = new Map<string, PressureWindow>()
    const batches: Array<TradeBatch> = []
    for (const bytes of session.chunks()) {
      decoder.push(bytes)
      const out = engine.apply(decoder.drain())
      for (const w of out.closed) rows.set(keyOf(w), w)
      batches.push(out.trades!)
    }
    for (const w of engine.flush()) rows.set(keyOf(w), w)
    assert.strictEqual(decoder.finish(), undefined)
    const truth = session.truth
    const tape = truth.trades

    let j = 0
    const mismatches: Array<string> = []
    for (const t of batches) {
      for (let i = 0; i < t.length; i++, j++) {
        const ts = u64(t.tsEventHi[i]!, t.tsEventLo[i]!)
        const same = ts === tape.baseNs + BigInt(tape.tsOffset[j]!) &&
          t.instrumentId[i] === tape.instrumentId[j] &&
          t.price[i] === tape.price[j] &&
          t.size[i] === tape.size[j] &&
          t.side[i] === tape.direction[j] &&
          t.rule[i] === tape.rule[j]
        if (!same && mismatches.length < 5) {
          const got = `side ${t.side[i]} rule ${t.rule[i]}`
          mismatches.push(`trade ${j} at ${ts}: ${got}, truth side ${tape.direction[j]} rule ${tape.rule[j]}`)
        }
      }
    }
    assert.deepStrictEqual(mismatches, [])
    assert.strictEqual(j, tape.length)

    const stats = engine.stats
    assert.strictEqual(stats.trades, truth.totals.trades)
    assert.strictEqual(stats.volume, truth.totals.volume)
    assert.strictEqual(stats.volumeBySide.buy, truth.totals.buyVolume)
    assert.strictEqual(stats.volumeBySide.sell, truth.totals.sellVolume)
    assert.strictEqual(stats.volumeBySide.unknown, 0)
    assert.strictEqual(stats.definitions, truth.counts.definitions)
    assert.strictEqual(stats.mboRecords, truth.counts.mbo)
    assert.strictEqual(stats.unknownInstrumentRecords, 0)
    assert.strictEqual(stats.lateTrades, 0)
    const book = stats.book
    assert.deepStrictEqual(
      {
        duplicateAdds: book.duplicateAdds,
        unknownCancels: book.unknownCancels,
        unknownModifies: book.unknownModifies,
        negativeSizes: book.negativeSizes,
        badSides: book.badSides,
        badOrders: book.badOrders,
        sideChanges: book.sideChanges
      },
      {
        duplicateAdds: 0,
        unknownCancels: 0,
        unknownModifies: 0,
        negativeSizes: 0,
        badSides: 0,
        badOrders: 0,
        sideChanges: 0
      }
    )
    assert.strictEqual(book.snapshots, session.chain.options.length)
    assert.strictEqual(book.clears, session.chain.options.length + truth.counts.clears)

    const actual = [...rows.values()].sort(compareWindows)
    assert.deepStrictEqual(windowDiffs(actual, truth.windows), [])
    let quote = 0
    for (let j = 0; j < truth.trades.length; j++) {
      assert.include([DIR_BUY, DIR_SELL], truth.trades.direction[j]!)
      if (truth.trades.rule[j] === RULE_QUOTE) quote++
      else assert.strictEqual(truth.trades.rule[j], RULE_AGGRESSOR)
    }
    assert.isAbove(quote, 0, "some trades are decided by the quote rule")
  })
})
