import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream, TestClock } from "effect"
import * as Baselines from "../../src/flow/Baselines.js"
import type { WindowSignal } from "../../src/flow/Signals.js"
import * as AppSignals from "../../src/app/Signals.js"
import { BaselinesRepo } from "../../src/store/BaselinesRepo.js"
import { SignalsRepo } from "../../src/store/SignalsRepo.js"
import * as Store from "../../src/store/Store.js"

const signal = (day: string, i: number, overrides: Partial<WindowSignal> = {}): WindowSignal => ({
  windowStart: Date.parse(`${day}T14:00:00Z`) + 300_000 * (i % 20),
  expiration: "2026-06-19",
  strike: 21_500 + 50 * Math.floor(i / 20),
  optionType: i % 2 === 0 ? "C" : "P",
  day,
  underlying: 21_512.5,
  underlyingMethod: "parity",
  otm: 0.5,
  key: "C|+1|10:00|10d+",
  active: true,
  buyVolume: 10 + i,
  sellVolume: 5,
  unknownVolume: 0,
  trades: 4,
  avgSize: (15 + i) / 4,
  logRatio: Math.log((11 + i) / 6),
  callPutPremiumRatio: 1.2,
  mmBalance: 0.3,
  straddle: 0,
  sweeps: 1,
  sweepVolume: 6,
  sweepNet: 6,
  largePrints: 0,
  largeVolume: 0,
  largeNet: 0,
  buyPremium: 1000,
  sellPremium: 200,
  baselineN: 0,
  lowSample: false,
  zVolume: null,
  zRatio: null,
  zTrades: null,
  zSize: null,
  direction: null,
  bias: null,
  score: null,
  confidence: null,
  tier: null,
  reported: false,
  ...overrides
})

describe("SignalsRepo", () => {
  it.effect("stores signals idempotently with their latency and streams the reported ones in time order", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      yield* TestClock.setTime(1_000_000)
      const rows = Array.from({ length: 1_200 }, (_, i) =>
        signal("2026-06-01", i, i % 3 === 0
          ? { direction: "BUY", bias: "BULLISH", score: 4, confidence: 0.8, tier: "high", reported: true }
          : {}))
      yield* repo.insert(rows, 999_990)
      yield* repo.insert(rows, 999_990)
      assert.strictEqual(yield* repo.count(), 1_200)
      assert.strictEqual(yield* repo.count(true), 400)
      const reported = Chunk.toReadonlyArray(yield* Stream.runCollect(repo.stream()))
      assert.strictEqual(reported.length, 400)
      assert.isTrue(reported.every((r) => r.tier === "high" && r.latency_ms === 10))
      for (let i = 1; i < reported.length; i++) assert.isTrue(reported[i - 1]!.window_start <= reported[i]!.window_start)
      const latency = yield* repo.latency()
      assert.deepStrictEqual(latency, { count: 1_200, median: 10, max: 10 })
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("the baseline job uses only the trading days before the day it computes", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      const days = ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04"]
      for (const d of days) yield* repo.insert(Array.from({ length: 40 }, (_, i) => signal(d, i)))
      const table = yield* AppSignals.computeBaseline({ days: 2, day: "2026-06-04" })
      assert.deepStrictEqual(table!.from, ["2026-06-02", "2026-06-03"])
      assert.strictEqual(table!.stats.get("C|+1|10:00|10d+")!.n, 80)
      // by default: the next trading day after the last stored one (a Thursday → Friday)
      const next = yield* AppSignals.computeBaseline({ days: 20 })
      assert.strictEqual(next!.day, "2026-06-05")
      assert.strictEqual(next!.from.length, 4)
      const stored = yield* (yield* BaselinesRepo).get("2026-06-04")
      assert.deepStrictEqual(stored!.from, table!.from)
      assert.deepStrictEqual(stored!.stats.get("C|+1|10:00|10d+"), table!.stats.get("C|+1|10:00|10d+"))
      assert.deepStrictEqual(yield* (yield* BaselinesRepo).days(), ["2026-06-04", "2026-06-05"])
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("observations read back what the windows contribute to the baselines", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      yield* repo.insert([signal("2026-06-01", 3), signal("2026-06-01", 4, { key: null })])
      const obs = yield* repo.observations(["2026-06-01"])
      assert.deepStrictEqual(obs, [{
        day: "2026-06-01",
        key: "C|+1|10:00|10d+",
        logRatio: Math.log(14 / 6),
        logVolume: Math.log(18),
        trades: 4,
        avgSize: 18 / 4
      }])
      const t = Baselines.compute("2026-06-02", ["2026-06-01"], obs)
      assert.strictEqual(t.stats.get("C|+1|10:00|10d+")!.logVolume.median, Math.log(18))
    }).pipe(Effect.provide(Store.layerMemory)))
})
