import { assert, describe, it } from "@effect/vitest"
import { Dir, Rule } from "../../src/flow/Direction.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import { dominantSideOf, WINDOW_NS, windowIndexOf, windowIndexOfNs, Windows } from "../../src/flow/Windows.js"

const hi = (ns: bigint): number => Number(ns >> 32n)
const lo = (ns: bigint): number => Number(ns & 0xffffffffn)
/** 2024-01-02 14:30:00 UTC, a window boundary. */
const B0 = 1_704_205_800_000_000_000n
const W0 = Number(B0 / WINDOW_NS)
const px = (points: number): number => Math.round(points * 1e9)

const advance = (w: Windows, ns: bigint) => w.advance(hi(ns), lo(ns))

describe("windowIndexOf", () => {
  it("buckets exactly at the ns edges of a window", () => {
    assert.strictEqual(windowIndexOf(hi(B0 - 1n), lo(B0 - 1n)), W0 - 1)
    assert.strictEqual(windowIndexOf(hi(B0), lo(B0)), W0)
    assert.strictEqual(windowIndexOf(hi(B0 + WINDOW_NS - 1n), lo(B0 + WINDOW_NS - 1n)), W0)
    assert.strictEqual(windowIndexOf(hi(B0 + WINDOW_NS), lo(B0 + WINDOW_NS)), W0 + 1)
    assert.strictEqual(W0 * 300_000, Date.UTC(2024, 0, 2, 14, 30))
  })

  it("agrees with bigint division over the whole u64 range", () => {
    let x = 0x9e3779b97f4a7c15n
    const samples = [0n, 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]
    for (let i = 0; i < 2000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn
      samples.push(x, (x / WINDOW_NS) * WINDOW_NS, (x / WINDOW_NS) * WINDOW_NS - 1n)
    }
    for (const ns of samples) {
      if (ns < 0n) continue
      assert.strictEqual(windowIndexOf(hi(ns), lo(ns)), windowIndexOfNs(ns), `at ${ns}`)
    }
  })
})

describe("Windows", () => {
  const key = (w: Windows, strike = 17_000, type: "C" | "P" = "C", exp = "2024-03-15") => w.keyOf(exp, strike, type)

  it("keeps a trade 1 ns before a boundary in the earlier window and one at the boundary in the next", () => {
    const w = new Windows()
    const k = key(w)
    assert.deepStrictEqual(advance(w, B0 - 1n), [])
    assert.isTrue(w.add(k, windowIndexOf(hi(B0 - 1n), lo(B0 - 1n)), Dir.BUY, Rule.AGGRESSOR, 3, px(100), 20))
    const closed = advance(w, B0)
    assert.strictEqual(closed.length, 1)
    assert.strictEqual(closed[0]!.windowStart, (W0 - 1) * 300_000)
    assert.strictEqual(closed[0]!.askVolume, 3)
    assert.isTrue(w.add(k, windowIndexOf(hi(B0), lo(B0)), Dir.SELL, Rule.AGGRESSOR, 2, px(100), 20))
    const last = w.flush()
    assert.strictEqual(last.length, 1)
    assert.strictEqual(last[0]!.windowStart, W0 * 300_000)
    assert.strictEqual(last[0]!.bidVolume, 2)
  })

  it("closes a window only when the clock reaches its end, not one ns before", () => {
    const w = new Windows()
    const k = key(w)
    advance(w, B0)
    w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20)
    assert.deepStrictEqual(advance(w, B0 + WINDOW_NS - 1n), [])
    assert.strictEqual(w.openCount, 1)
    assert.strictEqual(advance(w, B0 + WINDOW_NS).length, 1)
    assert.strictEqual(w.openCount, 0)
  })

  it("never moves the clock backwards", () => {
    const w = new Windows()
    const k = key(w)
    advance(w, B0 + 10n)
    w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20)
    assert.deepStrictEqual(advance(w, B0 - 5n), [])
    assert.strictEqual(w.clockNs, B0 + 10n)
    assert.strictEqual(w.openCount, 1)
  })

  it("emits every window that closes together, sorted by expiration, strike and type", () => {
    const w = new Windows()
    advance(w, B0)
    const keys = [
      key(w, 17_100, "P", "2024-03-15"),
      key(w, 17_000, "P", "2024-03-15"),
      key(w, 17_000, "C", "2024-03-15"),
      key(w, 16_000, "C", "2024-06-21"),
      key(w, 18_000, "C", "2024-02-16")
    ]
    for (const k of keys) w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 1, px(5), 20)
    const closed = advance(w, B0 + 3n * WINDOW_NS)
    assert.deepStrictEqual(
      closed.map((r) => `${r.expiration} ${r.strike} ${r.optionType}`),
      ["2024-02-16 18000 C", "2024-03-15 17000 C", "2024-03-15 17000 P", "2024-03-15 17100 P", "2024-06-21 16000 C"]
    )
    assert.strictEqual(w.closedCount, 5)
  })

  it("refuses a trade for a window that has already closed", () => {
    const w = new Windows()
    const k = key(w)
    advance(w, B0 + WINDOW_NS)
    assert.isFalse(w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20))
    assert.isTrue(w.add(k, W0 + 1, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20))
  })

  it("keeps windows open for lagging trades during the grace period", () => {
    const w = new Windows({ graceMs: 2_000 })
    const k = key(w)
    advance(w, B0 - 1n)
    w.add(k, W0 - 1, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20)
    assert.deepStrictEqual(advance(w, B0 + 1_999_999_999n), [])
    assert.isTrue(w.add(k, W0 - 1, Dir.SELL, Rule.AGGRESSOR, 4, px(1), 20))
    assert.isTrue(w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 7, px(1), 20))
    const closed = advance(w, B0 + 2_000_000_000n)
    assert.strictEqual(closed.length, 1)
    assert.deepStrictEqual([closed[0]!.askVolume, closed[0]!.bidVolume], [1, 4])
    assert.isFalse(w.add(k, W0 - 1, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20))
    assert.deepStrictEqual(w.flush().map((r) => r.askVolume), [7])
  })

  it("computes volumes, ratio, average size, rule counts, premium and the largest trade", () => {
    const w = new Windows()
    const k = key(w)
    advance(w, B0)
    w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 10, px(12.5), 20)
    w.add(k, W0, Dir.BUY, Rule.QUOTE, 5, px(12.75), 20)
    w.add(k, W0, Dir.SELL, Rule.TICK, 5, px(12.25), 20)
    w.add(k, W0, Dir.UNKNOWN, Rule.NONE, 4, px(12.5), 20)
    const [r] = w.flush()
    const expected: PressureWindow = {
      windowStart: W0 * 300_000,
      expiration: "2024-03-15",
      strike: 17_000,
      optionType: "C",
      bidVolume: 5,
      askVolume: 15,
      unknownVolume: 4,
      pressureRatio: 3,
      totalTrades: 4,
      avgTradeSize: 6,
      dominantSide: "BUY",
      tradesAggressor: 1,
      tradesQuote: 1,
      tradesTick: 1,
      tradesNone: 1,
      premium: 12.5 * 10 * 20 + 12.75 * 5 * 20 + 12.25 * 5 * 20 + 12.5 * 4 * 20,
      maxTradeSize: 10
    }
    assert.deepStrictEqual(r, expected)
  })

  it("gives a null pressure ratio, never Infinity, when no volume hit the bid", () => {
    const w = new Windows()
    const k = key(w)
    advance(w, B0)
    w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 10, px(1), 20)
    const [r] = w.flush()
    assert.isNull(r!.pressureRatio)
    assert.strictEqual(r!.dominantSide, "BUY")
  })

  it("names the dominant side by plain majority with ties neutral", () => {
    assert.strictEqual(dominantSideOf(1, 2), "BUY")
    assert.strictEqual(dominantSideOf(2, 1), "SELL")
    assert.strictEqual(dominantSideOf(3, 3), "NEUTRAL")
    assert.strictEqual(dominantSideOf(0, 0), "NEUTRAL")
  })

  it("treats trades after a flush as late, so no window is emitted twice", () => {
    const w = new Windows()
    const k = key(w)
    advance(w, B0)
    w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20)
    assert.strictEqual(w.flush().length, 1)
    assert.isFalse(w.add(k, W0, Dir.BUY, Rule.AGGRESSOR, 1, px(1), 20))
    assert.deepStrictEqual(w.flush(), [])
  })
})
