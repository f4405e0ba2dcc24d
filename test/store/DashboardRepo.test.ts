import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
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

  it.effect("reads one underlying per window and expiration of a UTC day, a window without one as null", () =>
    Effect.gen(function*() {
      const at = (windowStart: number, expiration: string, strike: number, underlying: number | null) =>
        signal({
          windowStart,
          expiration,
          strike,
          underlying,
          underlyingMethod: underlying === null ? null : "future",
          reported: false
        })
      yield* (yield* SignalsRepo).insert([
        // Every strike of a window carries the same underlying: one row comes back, not one per strike.
        at(T0, "2026-11-20", 21_500, 21_512.5),
        { ...at(T0, "2026-11-20", 21_500, 21_512.5), optionType: "P" },
        at(T0, "2026-11-20", 21_550, 21_512.5),
        at(T0, "2026-12-18", 21_500, 21_530.25),
        at(T0 + 300_000, "2026-11-20", 21_500, null),
        at(T0 + 600_000, "2026-11-20", 21_500, 21_498),
        at(T0 - 86_400_000, "2026-11-20", 21_500, 21_400)
      ])
      const repo = yield* DashboardRepo.fromContext

      assert.deepStrictEqual(yield* repo.underlying("2026-11-18", "2026-11-20"), [
        { windowStart: T0, expiration: "2026-11-20", underlying: 21_512.5, method: "future" },
        { windowStart: T0 + 300_000, expiration: "2026-11-20", underlying: null, method: null },
        { windowStart: T0 + 600_000, expiration: "2026-11-20", underlying: 21_498, method: "future" }
      ])
      assert.deepStrictEqual(
        (yield* repo.underlying("2026-11-18")).map((u) => [u.windowStart - T0, u.expiration]),
        [[0, "2026-11-20"], [0, "2026-12-18"], [300_000, "2026-11-20"], [600_000, "2026-11-20"]]
      )
      assert.strictEqual((yield* Effect.flip(repo.underlying("2026-02-30"))).reason, "Input")
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("reads the underlying through the primary key, grouped without a temporary b-tree", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (const expiration of [undefined, "2026-11-20"]) {
        const [text, params] = DashboardRepo.underlyingStatement(sql, T0, T0 + 86_400_000, expiration).compile()
        const plan = yield* sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params)
        const details = plan.map((p) => p.detail).join(" | ")
        assert.match(details, /SEARCH signals USING PRIMARY KEY \(window_start>\? AND window_start<\?\)/, details)
        assert.notInclude(details, "TEMP B-TREE", details)
      }
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("reads a day's reported signals through the partial index on reported windows", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const [text, params] = DashboardRepo.signalsStatement(sql, T0, T0 + 86_400_000, 10).compile()
      const plan = yield* sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params)
      const details = plan.map((p) => p.detail).join(" | ")
      assert.match(
        details,
        /SEARCH signals USING INDEX signals_reported_at \(window_start>\? AND window_start<\?\)/,
        details
      )
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("has no latest day without windows", () =>
    Effect.gen(function*() {
      const repo = yield* DashboardRepo.fromContext
      assert.isUndefined(yield* repo.latestDay())
      assert.deepStrictEqual(yield* repo.expirations("2026-11-18"), [])
    }).pipe(Effect.provide(Store.layerMemory)))
})
