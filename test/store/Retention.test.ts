import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { Retention } from "../../src/store/Retention.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { window } from "./support.js"

const NOW = Date.UTC(2025, 6, 10, 12) // 2025-07-10 12:00 UTC
const day = (daysAgo: number, minutes = 0) => Date.UTC(2025, 6, 10 - daysAgo) + minutes * 60_000

const summaries = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`SELECT * FROM daily_summaries ORDER BY day, expiration, strike, option_type`)

const seed = Effect.flatMap(WindowsRepo, (repo) =>
  repo.upsert([
    // 40 days ago: two windows of one key and one of another expiration.
    window({ windowStart: day(40, 0), bidVolume: 1, askVolume: 2, unknownVolume: 3, totalTrades: 4, premium: 10 }),
    window({ windowStart: day(40, 5), bidVolume: 10, askVolume: 20, unknownVolume: 30, totalTrades: 40, premium: 0.5 }),
    window({ windowStart: day(40, 5), expiration: "2025-06-13", bidVolume: 7 }),
    // The last minutes of the last day before the cutoff, and the first of the first day after it.
    window({ windowStart: day(31, 1435) }),
    window({ windowStart: day(30, 0) }),
    window({ windowStart: day(1) })
  ]))

describe("Retention", () => {
  it.effect("prune rolls the windows of whole days past the age into daily summaries and deletes exactly them", () =>
    Effect.gen(function*() {
      yield* seed
      const result = yield* (yield* Retention).prune({ olderThanDays: 30, now: NOW })
      assert.deepStrictEqual(result, { cutoff: day(30), summaries: 3, windowsDeleted: 4 })
      const kept = yield* (yield* WindowsRepo).all()
      assert.deepStrictEqual(kept.map((w) => w.windowStart), [day(30), day(1)])
      assert.deepStrictEqual(yield* summaries, [
        {
          day: "2025-05-31",
          expiration: "2025-06-06",
          strike: 21500,
          option_type: "C",
          bid_volume: 11,
          ask_volume: 22,
          unknown_volume: 33,
          total_trades: 44,
          premium: 10.5,
          windows: 2
        },
        {
          day: "2025-05-31",
          expiration: "2025-06-13",
          strike: 21500,
          option_type: "C",
          bid_volume: 7,
          ask_volume: 30,
          unknown_volume: 2,
          total_trades: 7,
          premium: 12_345.5,
          windows: 1
        },
        {
          day: "2025-06-09",
          expiration: "2025-06-06",
          strike: 21500,
          option_type: "C",
          bid_volume: 10,
          ask_volume: 30,
          unknown_volume: 2,
          total_trades: 7,
          premium: 12_345.5,
          windows: 1
        }
      ])
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("a second prune with the same age changes nothing", () =>
    Effect.gen(function*() {
      const retention = yield* Retention
      yield* seed
      yield* retention.prune({ olderThanDays: 30, now: NOW })
      const before = yield* summaries
      const again = yield* retention.prune({ olderThanDays: 30, now: NOW })
      assert.deepStrictEqual(again, { cutoff: day(30), summaries: 0, windowsDeleted: 0 })
      assert.deepStrictEqual(yield* summaries, before)
      assert.strictEqual(yield* (yield* WindowsRepo).count(), 2)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("windows replayed into an already summarised day are refused, so no summary counts them twice", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      const retention = yield* Retention
      yield* seed
      yield* retention.prune({ olderThanDays: 30, now: NOW })
      const before = yield* summaries
      const replay = yield* repo.upsert([window({ windowStart: day(40, 0) }), window({ windowStart: day(2) })])
      assert.deepStrictEqual(replay, { changed: 1, skipped: 1 })
      yield* retention.prune({ olderThanDays: 30, now: NOW })
      assert.deepStrictEqual(yield* summaries, before)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("a later prune adds the next days to the summaries without touching the earlier ones", () =>
    Effect.gen(function*() {
      const retention = yield* Retention
      yield* seed
      yield* retention.prune({ olderThanDays: 30, now: NOW })
      const before = yield* summaries
      const later = yield* retention.prune({ olderThanDays: 0, now: NOW })
      assert.deepStrictEqual(later, { cutoff: day(0), summaries: 2, windowsDeleted: 2 })
      const after = yield* summaries
      assert.deepStrictEqual(after.slice(0, before.length), before)
      assert.deepStrictEqual(after.slice(before.length).map((r) => r["day"]), ["2025-06-10", "2025-07-09"])
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("prune takes now from the Clock when none is given", () =>
    Effect.gen(function*() {
      yield* seed
      yield* TestClock.setTime(NOW)
      const result = yield* (yield* Retention).prune({ olderThanDays: 30 })
      assert.strictEqual(result.cutoff, day(30))
      assert.strictEqual(result.windowsDeleted, 4)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("a negative or fractional age is rejected before touching the database", () =>
    Effect.gen(function*() {
      const retention = yield* Retention
      assert.strictEqual((yield* Effect.flip(retention.prune({ olderThanDays: -1, now: NOW }))).reason, "Input")
      assert.strictEqual((yield* Effect.flip(retention.prune({ olderThanDays: 1.5, now: NOW }))).reason, "Input")
    }).pipe(Effect.provide(Store.layerMemory)))
})

