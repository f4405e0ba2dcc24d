import { assert, describe, it } from "@effect/vitest"
import { allocTradeBatch, type TradeBatch } from "../../src/flow/Engine.js"
import { Dir } from "../../src/flow/Direction.js"
import { Features, type InstrumentInfo } from "../../src/flow/Features.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"

// 2026-11-18 14:30:00 UTC, a window boundary
const T0 = 1_779_114_600_000_000_000n
const info: InstrumentInfo = { expiration: "2026-11-20", strike: 21500, optionType: "C", multiplier: 20, windowed: true }

const trades = (rows: ReadonlyArray<{ ns: bigint; id?: number; px: number; size: number; side: number; seq: number }>) => {
  const t: TradeBatch = allocTradeBatch(rows.length)
  for (const r of rows) {
    const i = t.length++
    t.tsEventHi[i] = Number(r.ns >> 32n)
    t.tsEventLo[i] = Number(r.ns & 0xffffffffn)
    t.instrumentId[i] = r.id ?? 7
    t.price[i] = r.px * 1e9
    t.size[i] = r.size
    t.side[i] = r.side
    t.sequence[i] = r.seq
  }
  return t
}

const window = (overrides: Partial<PressureWindow> = {}): PressureWindow => ({
  windowStart: Number(T0 / 1_000_000n),
  expiration: "2026-11-20",
  strike: 21500,
  optionType: "C",
  bidVolume: 0,
  askVolume: 0,
  unknownVolume: 0,
  pressureRatio: null,
  totalTrades: 0,
  avgTradeSize: 0,
  dominantSide: "NEUTRAL",
  tradesAggressor: 0,
  tradesQuote: 0,
  tradesTick: 0,
  tradesNone: 0,
  premium: 0,
  maxTradeSize: 0,
  ...overrides
})

describe("Features", () => {
  it("counts one sweep for one aggressive event printed at three prices, with all of its volume", () => {
    const f = new Features((id) => (id === 7 ? info : undefined), { largeSize: 100 })
    f.addTrades(trades([
      { ns: T0 + 5n, px: 10, size: 5, side: Dir.BUY, seq: 1 },
      { ns: T0 + 5n, px: 10.25, size: 7, side: Dir.BUY, seq: 1 },
      { ns: T0 + 5n, px: 10.5, size: 3, side: Dir.BUY, seq: 1 },
      { ns: T0 + 9n, px: 10.5, size: 2, side: Dir.SELL, seq: 2 }
    ]))
    const out = f.take(window())
    assert.strictEqual(out.sweeps, 1)
    assert.strictEqual(out.sweepVolume, 15)
    assert.strictEqual(out.sweepNet, 15)
    assert.strictEqual(out.largePrints, 0)
  })

  it("counts an event split across two chunks once, as one large print", () => {
    const f = new Features(() => info, { largeSize: 25 })
    f.addTrades(trades([{ ns: T0 + 5n, px: 10, size: 20, side: Dir.SELL, seq: 3 }]))
    f.addTrades(trades([{ ns: T0 + 5n, px: 9.75, size: 10, side: Dir.SELL, seq: 3 }]))
    const out = f.take(window())
    assert.strictEqual(out.largePrints, 1)
    assert.strictEqual(out.largeVolume, 30)
    assert.strictEqual(out.largeNet, -30)
    assert.strictEqual(out.sweeps, 1)
  })

  it("weights premium by price × size × multiplier, by side", () => {
    const f = new Features(() => info)
    f.addTrades(trades([
      { ns: T0 + 1n, px: 10, size: 2, side: Dir.BUY, seq: 1 },
      { ns: T0 + 2n, px: 12, size: 1, side: Dir.SELL, seq: 2 },
      { ns: T0 + 3n, px: 11, size: 4, side: Dir.UNKNOWN, seq: 3 }
    ]))
    const out = f.take(window())
    assert.strictEqual(out.buyPremium, 400)
    assert.strictEqual(out.sellPremium, 240)
  })

  it("keeps windows apart and hands each window's features out once", () => {
    const f = new Features(() => info)
    f.addTrades(trades([
      { ns: T0 + 1n, px: 10, size: 30, side: Dir.BUY, seq: 1 },
      { ns: T0 + 300_000_000_000n, px: 10, size: 40, side: Dir.BUY, seq: 2 }
    ]))
    assert.strictEqual(f.take(window()).largeVolume, 30)
    assert.strictEqual(f.take(window()).largeVolume, 0)
    assert.strictEqual(f.take(window({ windowStart: window().windowStart + 300_000 })).largeVolume, 40)
    assert.strictEqual(f.pending, 0)
  })
})
