import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import type { Statement } from "@effect/sql/Statement"
import { Chunk, Effect, Stream, TestClock } from "effect"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import * as Store from "../../src/store/Store.js"
import { DAY_MS, statements, WindowsRepo } from "../../src/store/WindowsRepo.js"
import { T0, window, windows } from "./support.js"

const table = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`SELECT * FROM windows ORDER BY window_start, expiration, strike, option_type`)

/** The details of EXPLAIN QUERY PLAN for a statement the repo runs. */
const plan = (statement: Statement<unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const [text, params] = statement.compile()
    return sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params)
  }).pipe(Effect.map((rows) => rows.map((r) => r.detail)))

const key = (w: PressureWindow) => `${w.windowStart}|${w.expiration}|${w.strike}|${w.optionType}`

describe("WindowsRepo", () => {
  it.effect("upserting the same windows twice leaves identical rows and no duplicates", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      const rows = windows(1_234)
      const first = yield* repo.upsert(rows)
      const before = yield* table
      yield* TestClock.adjust("1 hour")
      const second = yield* repo.upsert(rows)
      assert.deepStrictEqual(first, { changed: 1_234, skipped: 0 })
      assert.deepStrictEqual(second, { changed: 0, skipped: 0 })
      assert.deepStrictEqual(yield* table, before)
      assert.strictEqual(yield* repo.count(), 1_234)
      assert.deepStrictEqual(yield* repo.all(), [...rows].sort((a, b) => key(a) < key(b) ? -1 : 1))
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("an upsert with new values replaces the stored window and moves updated_at", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      yield* repo.upsert([window()])
      yield* TestClock.adjust("1 minute")
      const changed = window({ askVolume: 31, pressureRatio: 3.1, totalTrades: 8 })
      assert.deepStrictEqual(yield* repo.upsert([changed]), { changed: 1, skipped: 0 })
      assert.deepStrictEqual(yield* repo.all(), [changed])
      const [row] = yield* table
      assert.strictEqual(row?.["updated_at"], 60_000)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("a null pressure ratio reads back as null, not 0 or NaN", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      const w = window({ bidVolume: 0, pressureRatio: null })
      yield* repo.upsert([w])
      const [stored] = yield* repo.all()
      assert.isNull(stored?.pressureRatio)
      assert.deepStrictEqual(stored, w)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("byDay returns exactly the windows of that UTC day and rejects a date that does not exist", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      const day = Date.UTC(2025, 5, 2)
      const inside = [window({ windowStart: day }), window({ windowStart: day + DAY_MS - 300_000 })]
      yield* repo.upsert([...inside, window({ windowStart: day - 300_000 }), window({ windowStart: day + DAY_MS })])
      assert.deepStrictEqual(yield* repo.byDay("2025-06-02"), inside)
      const error = yield* Effect.flip(repo.byDay("2025-02-30"))
      assert.strictEqual(error.reason, "Input")
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("byDay, recent and export pages are index searches, never a full scan or a sort", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* (yield* WindowsRepo).upsert(windows(2_000))
      const byDay = yield* plan(statements.byDay(sql, T0, T0 + DAY_MS))
      const recent = yield* plan(statements.recent(sql, 21_000, "C", 10))
      const page = yield* plan(statements.page(sql, {}, {
        window_start: T0,
        expiration: "2025-06-06",
        strike: 21_000,
        option_type: "C"
      } as never, 100))
      assert.deepStrictEqual(byDay, ["SEARCH windows USING PRIMARY KEY (window_start>? AND window_start<?)"])
      assert.deepStrictEqual(page, [
        "SEARCH windows USING PRIMARY KEY ((window_start,expiration,strike,option_type)>(?,?,?,?))"
      ])
      assert.deepStrictEqual(recent, ["SEARCH windows USING INDEX windows_by_strike (strike=? AND option_type=?)"])
      for (const detail of [...byDay, ...recent, ...page]) {
        assert.notMatch(detail, /^SCAN/)
        assert.notInclude(detail, "TEMP B-TREE")
      }
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("recent returns the newest windows of one strike and type across expirations, newest first", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      const all = windows(400)
      yield* repo.upsert(all)
      const recent = yield* repo.recent({ strike: 21_050, optionType: "P", limit: 5 })
      const expected = all
        .filter((w) => w.strike === 21_050 && w.optionType === "P")
        .sort((a, b) => b.windowStart - a.windowStart || (a.expiration < b.expiration ? 1 : -1))
        .slice(0, 5)
      assert.strictEqual(recent.length, 5)
      assert.deepStrictEqual(recent.map((w) => w.windowStart), expected.map((w) => w.windowStart))
      assert.isTrue(recent.every((w) => w.strike === 21_050 && w.optionType === "P"))
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("stream reads every window of a range in key order, one chunk per page", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      yield* repo.upsert(windows(1_000))
      const range = { from: T0 + 300_000, to: T0 + 20 * 300_000 }
      const chunks = yield* Stream.runCollect(Stream.mapChunks(repo.stream(range, 64), (c) => Chunk.of(c.length)))
      const streamed = yield* Stream.runCollect(repo.stream(range, 64))
      const expected = (yield* repo.all()).filter((w) => w.windowStart >= range.from && w.windowStart < range.to)
      assert.strictEqual(expected.length, 19 * 40)
      assert.deepStrictEqual(Chunk.toReadonlyArray(streamed), expected)
      assert.isTrue(Chunk.every(Chunk.dropRight(chunks, 1), (n) => n === 64))
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("rollupByStrike sums across expirations and recomputes ratio, average size and dominant side", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      const base = { windowStart: T0, strike: 21_500, optionType: "C" as const }
      yield* repo.upsert([
        window({ ...base, expiration: "2025-06-06", bidVolume: 10, askVolume: 30, unknownVolume: 0, totalTrades: 4,
          premium: 100, maxTradeSize: 12, tradesAggressor: 4, tradesQuote: 0 }),
        window({ ...base, expiration: "2025-06-13", bidVolume: 20, askVolume: 0, unknownVolume: 5, totalTrades: 1,
          premium: 50, maxTradeSize: 25, tradesAggressor: 0, tradesQuote: 1 }),
        window({ ...base, optionType: "P", bidVolume: 0, askVolume: 8, unknownVolume: 0, totalTrades: 2 }),
        window({ ...base, strike: 21_525, bidVolume: 0, askVolume: 0, unknownVolume: 0, totalTrades: 0 })
      ])
      const rollup = yield* repo.rollupByStrike()
      assert.deepStrictEqual(rollup.map((r) => [r.strike, r.optionType, r.expirations]), [
        [21_500, "C", 2],
        [21_500, "P", 1],
        [21_525, "C", 1]
      ])
      const [calls, puts, empty] = rollup
      assert.include(calls, {
        bidVolume: 30,
        askVolume: 30,
        unknownVolume: 5,
        pressureRatio: 1,
        totalTrades: 5,
        avgTradeSize: 13,
        dominantSide: "NEUTRAL",
        premium: 150,
        maxTradeSize: 25,
        tradesAggressor: 4,
        tradesQuote: 1
      })
      assert.include(puts, { pressureRatio: null, dominantSide: "BUY", avgTradeSize: 4 })
      assert.include(empty, { pressureRatio: null, dominantSide: "NEUTRAL", avgTradeSize: 0 })
      const streamed = yield* Stream.runCollect(repo.streamRollupByStrike())
      assert.deepStrictEqual(Chunk.toReadonlyArray(streamed), rollup)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("streamRollupByStrike over several days equals the one-shot rollup of the same range", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      // 280 windows = 7 blocks of 40, each block 20 (strike, type) pairs over 2 expirations.
      yield* repo.upsert([...windows(280, T0 - 2 * DAY_MS), ...windows(280, T0), ...windows(280, T0 + 3 * DAY_MS)])
      const range = { from: T0 - DAY_MS, to: T0 + 4 * DAY_MS }
      const streamed = yield* Stream.runCollect(repo.streamRollupByStrike(range))
      assert.deepStrictEqual(Chunk.toReadonlyArray(streamed), yield* repo.rollupByStrike(range))
      assert.strictEqual(Chunk.size(streamed), 2 * 140)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("a failed upsert rolls back all of its rows and leaves previously committed rows intact", () =>
    Effect.gen(function*() {
      const repo = yield* WindowsRepo
      const committed = windows(100)
      yield* repo.upsert(committed)
      const batch = windows(1_200, T0 + DAY_MS)
      batch[1_100] = window({ ...batch[1_100]!, optionType: "X" as never })
      const error = yield* Effect.flip(repo.upsert(batch))
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual(error.operation, "WindowsRepo.upsert")
      assert.strictEqual(error.detail, "SQLITE_CONSTRAINT_CHECK")
      assert.deepStrictEqual(yield* repo.all(), yield* repo.all({ to: T0 + DAY_MS }))
      assert.strictEqual(yield* repo.count(), 100)
    }).pipe(Effect.provide(Store.layerMemory)))
})
