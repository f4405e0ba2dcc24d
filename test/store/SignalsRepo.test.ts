import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import type { Statement } from "@effect/sql/Statement"
import { Chunk, Effect, Stream, TestClock } from "effect"
import * as Baselines from "../../src/flow/Baselines.js"
import type { WindowSignal } from "../../src/flow/Signals.js"
import * as AppSignals from "../../src/app/Signals.js"
import { BaselinesRepo } from "../../src/store/BaselinesRepo.js"
import {
  countStatement,
  firstFromStatement,
  observationsStatement,
  pageStatement,
  reportedInStatement,
  SignalsRepo
} from "../../src/store/SignalsRepo.js"
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

/** A signal of the window starting at `utc` (ISO), with its New York day as the pipeline computes it. */
const at = (utc: string, i: number, overrides: Partial<WindowSignal> = {}): WindowSignal => {
  const windowStart = Date.parse(utc)
  return signal(Baselines.newYork(windowStart).day, i, { windowStart, ...overrides })
}

// Windows at New York midnights (23:55 one day, 00:00 the next) on both DST changes of 2026 (March 8, November 1),
// one whose UTC date is a day later than its New York date, and a lone day. Four strikes × types per window; some
// without a baseline key, some without volume, some reported.
const STARTS = [
  "2026-01-15T15:00:00Z",
  "2026-03-08T04:55:00Z", // 2026-03-07 23:55 EST
  "2026-03-08T05:00:00Z", // 2026-03-08 00:00 EST
  "2026-03-08T14:00:00Z",
  "2026-03-09T03:55:00Z", // 2026-03-08 23:55 EDT
  "2026-03-09T04:00:00Z", // 2026-03-09 00:00 EDT
  "2026-06-02T00:30:00Z", // 2026-06-01 20:30 EDT
  "2026-06-02T14:00:00Z",
  "2026-11-01T03:55:00Z", // 2026-10-31 23:55 EDT
  "2026-11-01T04:00:00Z", // 2026-11-01 00:00 EDT
  "2026-11-02T04:55:00Z", // 2026-11-01 23:55 EST
  "2026-11-02T05:00:00Z" // 2026-11-02 00:00 EST
]
const NY_DAYS = [
  "2026-01-15", "2026-03-07", "2026-03-08", "2026-03-09", "2026-06-01", "2026-06-02", "2026-10-31", "2026-11-01",
  "2026-11-02"
]
const edgeSignals: Array<WindowSignal> = STARTS.flatMap((utc, w) =>
  [0, 1, 20, 21].map((i) =>
    at(utc, i, {
      key: (w + i) % 5 === 0 ? null : "C|+1|10:00|10d+",
      buyVolume: (w + i) % 7 === 0 ? 0 : 10 + i,
      sellVolume: (w + i) % 7 === 0 ? 0 : 5,
      reported: (w + i) % 3 === 0
    })
  )
)

/** Primary-key order, as SQLite returns rows of `signals`. */
const byKey = (a: WindowSignal, b: WindowSignal) =>
  a.windowStart - b.windowStart || a.expiration.localeCompare(b.expiration) || a.strike - b.strike ||
  a.optionType.localeCompare(b.optionType)

/** The details of EXPLAIN QUERY PLAN for a statement the repo runs, joined. */
const plan = (statement: Statement<unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const [text, params] = statement.compile()
    return sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params)
  }).pipe(Effect.map((rows) => rows.map((r) => r.detail).join(" | ")))

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

  it.effect("batches written together keep each batch's own latency, and a batch without an arrival time none", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      yield* TestClock.setTime(2_000_000)
      const rows = Array.from({ length: 300 }, (_, i) => signal("2026-06-01", i))
      // 300 rows across batches of 7, 280 and 13: the multi-row statements straddle the batch boundaries.
      const written = yield* repo.insertBatches([
        { signals: rows.slice(0, 7), receivedAt: 1_999_000 },
        { signals: rows.slice(7, 287), receivedAt: 1_999_990 },
        { signals: rows.slice(287), receivedAt: undefined }
      ])
      assert.strictEqual(written, 300)
      const sql = yield* SqlClient.SqlClient
      const stored = yield* sql<{ strike: number; option_type: string; window_start: number; latency_ms: number | null }>`
        SELECT strike, option_type, window_start, latency_ms FROM signals`
      const latencyOf = new Map(stored.map((r) => [`${r.window_start}|${r.strike}|${r.option_type}`, r.latency_ms]))
      rows.forEach((s, i) => {
        const expected = i < 7 ? 1_000 : i < 287 ? 10 : null
        assert.strictEqual(latencyOf.get(`${s.windowStart}|${s.strike}|${s.optionType}`), expected, `row ${i}`)
      })
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

  it.effect("days lists each New York day once, as SELECT DISTINCT day does, across DST and midnights", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      const sql = yield* SqlClient.SqlClient
      assert.deepStrictEqual(yield* repo.days(), [])
      yield* repo.insert(edgeSignals)
      const distinct = yield* sql<{ day: string }>`SELECT DISTINCT day FROM signals ORDER BY day`
      const days = yield* repo.days()
      assert.deepStrictEqual(days, distinct.map((r) => r.day))
      assert.deepStrictEqual(days, NY_DAYS)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("observations of any set of days equal those days' rows filtered one by one, in time order", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      yield* repo.insert(edgeSignals)
      const cases: ReadonlyArray<ReadonlyArray<string>> = [
        ...NY_DAYS.map((d) => [d]),
        ["2026-03-07", "2026-03-08", "2026-03-09"],
        ["2026-10-31", "2026-11-01", "2026-11-02"],
        ["2026-11-02", "2026-01-15", "2026-06-01", "2026-01-15"],
        NY_DAYS,
        ["2026-03-10"],
        []
      ]
      for (const days of cases) {
        const expected = edgeSignals
          .filter((s) => days.includes(s.day) && s.key !== null && s.buyVolume + s.sellVolume + s.unknownVolume > 0)
          .sort(byKey)
          .map((s) => ({
            day: s.day,
            key: s.key,
            logRatio: s.logRatio,
            logVolume: Math.log(s.buyVolume + s.sellVolume + s.unknownVolume),
            trades: s.trades,
            avgSize: s.avgSize
          }))
        assert.deepStrictEqual(yield* repo.observations(days), expected, days.join(","))
      }
      const bad = yield* Effect.flip(repo.observations(["2026-02-30"]))
      assert.strictEqual(bad.reason, "Input")
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("reportedIn counts the reported signals of a New York day or month, midnight windows included", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      const sql = yield* SqlClient.SqlClient
      yield* repo.insert(edgeSignals)
      const prefixes = [...NY_DAYS, "2026-01", "2026-03", "2026-06", "2026-10", "2026-11", "2026-12", "2026-03-10"]
      for (const prefix of prefixes) {
        const byDay = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM signals
          WHERE reported = 1 AND substr(day, 1, ${prefix.length}) = ${prefix}`
        const expected = edgeSignals.filter((s) => s.reported && s.day.startsWith(prefix)).length
        assert.strictEqual(byDay[0]!.n, expected, prefix)
        assert.strictEqual(yield* repo.reportedIn(prefix), expected, prefix)
      }
      // October's one reported signal is at 2026-10-31 23:55 EDT, already November in UTC.
      assert.strictEqual(yield* repo.reportedIn("2026-10"), 1)
      for (const prefix of ["2026-13", "2026-02-30", "2026", ""]) {
        assert.strictEqual((yield* Effect.flip(repo.reportedIn(prefix))).reason, "Input", prefix)
      }
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("reportedIn counts by trade date when given the budget's rollover: the evening belongs to the next day", () =>
    Effect.gen(function*() {
      const repo = yield* SignalsRepo
      // Around the trade dates of 2026-11-02 and 2026-11-03 (EST, rollover 18:00 = 23:00 UTC), and the month's end.
      yield* repo.insert([
        at("2026-11-02T22:55:00Z", 0, { reported: true }), // 11-02 17:55 EST: trade date 11-02
        at("2026-11-02T23:00:00Z", 1, { reported: true }), // 11-02 18:00 EST: trade date 11-03
        at("2026-11-03T14:30:00Z", 2, { reported: true }), // 11-03 09:30 EST: trade date 11-03
        at("2026-11-03T23:05:00Z", 3, { reported: false }), // not reported: never counted
        at("2026-11-30T23:10:00Z", 4, { reported: true }) // 11-30 18:10 EST: trade date 12-01, December
      ])
      const rollover = 18 * 60
      assert.strictEqual(yield* repo.reportedIn("2026-11-02", rollover), 1)
      assert.strictEqual(yield* repo.reportedIn("2026-11-03", rollover), 2)
      assert.strictEqual(yield* repo.reportedIn("2026-11", rollover), 3)
      assert.strictEqual(yield* repo.reportedIn("2026-12", rollover), 1)
      // Without a rollover the same rows count by their New York dates.
      assert.strictEqual(yield* repo.reportedIn("2026-11-02"), 2)
      assert.strictEqual(yield* repo.reportedIn("2026-11-03"), 1)
      assert.strictEqual(yield* repo.reportedIn("2026-11"), 4)
      assert.strictEqual(yield* repo.reportedIn("2026-12"), 0)
    }).pipe(Effect.provide(Store.layerMemory)))

  it.effect("days, observations, reportedIn, counts and pages seek the primary key or the partial index", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* (yield* SignalsRepo).insert(edgeSignals)
      const day = Date.parse("2026-03-08T05:00:00Z")
      const ranged = [
        yield* plan(firstFromStatement(sql, day)),
        yield* plan(observationsStatement(sql, day, day + 86_400_000, ["2026-03-08"])),
        yield* plan(reportedInStatement(sql, day, day + 86_400_000))
      ]
      for (const p of ranged) assert.notMatch(p, /SCAN signals/, p)
      assert.match(ranged[0]!, /SEARCH signals USING PRIMARY KEY \(window_start>\?\)/, ranged[0])
      assert.match(ranged[1]!, /SEARCH signals USING PRIMARY KEY \(window_start>\? AND window_start<\?\)/, ranged[1])
      assert.match(
        ranged[2]!,
        /SEARCH signals USING COVERING INDEX signals_reported_at \(window_start>\? AND window_start<\?\)/,
        ranged[2]
      )

      const count = yield* plan(countStatement(sql, true))
      assert.include(count, "COVERING INDEX signals_reported_at", count)
      const after = (yield* pageStatement(sql, true, undefined))[0]!
      const first = yield* plan(pageStatement(sql, true, undefined))
      const next = yield* plan(pageStatement(sql, true, after))
      const all = yield* plan(pageStatement(sql, false, after))
      assert.include(first, "USING INDEX signals_reported_at", first)
      assert.match(next, /SEARCH signals USING INDEX signals_reported_at \(\(window_start,/, next)
      assert.match(all, /SEARCH signals USING PRIMARY KEY \(\(window_start,/, all)
      for (const p of [first, next, all]) assert.notInclude(p, "TEMP B-TREE", p)
    }).pipe(Effect.provide(Store.layerMemory)))
})
