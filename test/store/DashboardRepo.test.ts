import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import * as DashboardRepo from "../../src/store/DashboardRepo.js"
import { SignalsRepo } from "../../src/store/SignalsRepo.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { buyOnlyWindow, signal } from "../support/Dashboard.js"

const T0 = Date.parse("2026-11-18T14:30:00Z")

const windows: Array<PressureWindow> = [
  buyOnlyWindow(T0, "2026-11-20", 21_500),
  { ...buyOnlyWindow(T0 + 300_000, "2026-11-20", 21_550), optionType: "C", bidVolume: 40, pressureRatio: 250 / 40 },
  buyOnlyWindow(T0, "2026-12-18", 21_500),
  // The day before: not in 2026-11-18's reads.
  buyOnlyWindow(T0 - 86_400_000, "2026-11-20", 21_500)
]

describe("DashboardRepo", () => {
  it.effect("reads a UTC day's expirations, one expiration's windows and the reported signals newest first", () =>
    Effect.gen(function*() {
      yield* (yield* WindowsRepo).upsert(windows)
      const first = signal({ windowStart: T0, expiration: "2026-11-20", strike: 21_500 })
      const second = signal({ windowStart: T0 + 300_000, expiration: "2026-11-20", strike: 21_550, direction: "SELL", bias: "BEARISH" })
      yield* (yield* SignalsRepo).insert([first, second, { ...second, strike: 21_600, reported: false }])
      const repo = yield* DashboardRepo.fromContext

      assert.strictEqual(yield* repo.latestDay(), "2026-11-18")
      assert.deepStrictEqual(yield* repo.expirations("2026-11-18"), [
        { expiration: "2026-11-20", windows: 2, volume: 253 + 293 },
        { expiration: "2026-12-18", windows: 1, volume: 253 }
      ])
      const read = yield* repo.windows("2026-11-18", "2026-11-20")
      assert.deepStrictEqual(read, windows.slice(0, 2))
      assert.isNull(read[0]!.pressureRatio)
      assert.lengthOf(yield* repo.windows("2026-11-18"), 3)
      assert.deepStrictEqual(yield* repo.signals("2026-11-18"), [second, first])
      const bad = yield* Effect.flip(repo.windows("2026-02-30"))
      assert.strictEqual(bad.reason, "Input")
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("has no latest day without windows", () =>
    Effect.gen(function*() {
      const repo = yield* DashboardRepo.fromContext
      assert.isUndefined(yield* repo.latestDay())
      assert.deepStrictEqual(yield* repo.expirations("2026-11-18"), [])
    }).pipe(Effect.provide(Store.layerMemory)))
})
