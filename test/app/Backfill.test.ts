import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { ConfigProvider, Effect, Exit, Layer, Redacted } from "effect"
import * as path from "node:path"
import * as Backfill from "../../src/app/Backfill.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import { DbnWriter } from "../../src/dbn/Encoder.js"
import * as Budget from "../../src/gate/Budget.js"
import * as Calendar from "../../src/gate/Calendar.js"
import * as Historical from "../../src/historical/Historical.js"
import * as Simulator from "../../src/sim/Simulator.js"
import { GapsRepo, type StoredGap } from "../../src/store/GapsRepo.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import * as FakeHistorical from "../../src/testing/FakeHistorical.js"
import { tempDir } from "../support/TempDir.js"
import { assertSameWindows } from "../support/Windows.js"

const KEY = "db-BackfillKey0123456789abcdefgh"
const DAYS = ["2026-11-16", "2026-11-17"] as const

/** A simulated day split the way the API answers: one DBN stream per schema. */
const dayData = (date: string, seed: number) => {
  const { bytes, truth } = Simulator.generate({
    seed,
    date,
    expirations: 1,
    strikesPerExpiration: 6,
    targetRecords: 40_000,
    collectTrades: false
  })
  const decoder = new DbnDecoder()
  decoder.push(bytes)
  const chunk = decoder.drain()
  const definitions = new DbnWriter().metadata({ ...chunk.metadata!, schema: 9 })
  const mbo = new DbnWriter().metadata({ ...chunk.metadata!, schema: 0 })
  for (const r of chunk.others) if (r._tag === "definition") definitions.record(r)
  mbo.mboRows(chunk.mbo)
  // The same MBO with the records [cut.from, cut.to) lost, as a live feed with an unreplayable gap delivers it.
  const n = chunk.mbo.length
  const cut = { from: Math.floor(n / 3), to: Math.floor(n / 2) }
  const mboCut = new DbnWriter().metadata({ ...chunk.metadata!, schema: 0 })
  mboCut.mboRows(chunk.mbo, 0, cut.from).mboRows(chunk.mbo, cut.to, n)
  const tsAt = (i: number) => (BigInt(chunk.mbo.tsEventHi[i]!) << 32n) + BigInt(chunk.mbo.tsEventLo[i]!)
  return {
    truth,
    bySchema: { definition: definitions.toBytes(), mbo: mbo.toBytes() } as Record<string, Uint8Array>,
    mboCut: mboCut.toBytes(),
    /** The lost interval as the live stream records it: after the last delivered record, up to the next one. */
    gap: { from: tsAt(cut.from - 1), to: tsAt(cut.to) }
  }
}

const setup = (dailyBudget: number) =>
  Effect.gen(function*() {
    const days = DAYS.map((d, i) => ({ date: d, ...dayData(d, 40 + i) }))
    /** While set, MBO queries answer the day with its gap (to seed the store with incomplete windows). */
    const served = { withGap: false }
    const fake = yield* FakeHistorical.serve({
      apiKey: KEY,
      cost: 0.5,
      dataFor: (form) => {
        const date = Calendar.nyDate(Number(BigInt(form.start!) / 1_000_000n))
        const day = days.find((d) => d.date === date)
        if (day === undefined) return new Uint8Array(0)
        return served.withGap && form.schema === "mbo" ? day.mboCut : day.bySchema[form.schema!]!
      }
    })
    const db = path.join(yield* tempDir, "ifd.sqlite")
    const layer = Historical.layer({ apiKey: Redacted.make(KEY), baseUrl: fake.url }).pipe(
      Layer.provide(NodeHttpClient.layerUndici),
      Layer.provideMerge(Budget.layer({ dailyBudget, cutoff: 1 })),
      Layer.provideMerge(Store.layer({ filename: db }))
    )
    return { days, fake, layer, served }
  })

const putGap = (source: string, from: bigint, to: bigint | undefined, status: "pending" | "recovered" = "pending") =>
  Effect.flatMap(GapsRepo, (r) =>
    r.put(source, { id: 1, from: { tsEvent: from, seen: 1 }, to, reason: "ReplayRefused", detail: "test", recordedAt: 0 }, status))

const gapsOf = (layer: Layer.Layer<GapsRepo, unknown>) =>
  Effect.flatMap(GapsRepo, (r) => r.list()).pipe(Effect.provide(layer))

/** ns since epoch of a New York wall time. */
const nyNs = (date: string, minute: number) =>
  BigInt(Calendar.instantAt(Calendar.parseDate(date)!, minute)) * 1_000_000n

describe("backfill", () => {
  it.scopedLive("prices every day first, then streams definitions and MBO of each day into the same windows as the truth", () =>
    Effect.gen(function*() {
      const { days, fake, layer } = yield* setup(10)
      const result = yield* Backfill.run({ days: 2, end: "2026-11-18" }).pipe(Effect.provide(layer))
      assert.strictEqual(result.days, 2)
      assert.strictEqual(result.cost, 2)
      const endpoints = fake.requests().map((r) => r.endpoint)
      // Four get_cost calls (2 days × 2 schemas) come before the first get_range.
      assert.deepStrictEqual(endpoints.slice(0, 4), Array(4).fill("metadata.get_cost"))
      assert.strictEqual(endpoints.filter((e) => e === "timeseries.get_range").length, 4)
      assert.isTrue(fake.requests().every((r) => r.authorized))
      const stored = yield* Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(layer))
      assertSameWindows(stored, days.flatMap((d) => d.truth.windows))
    }))

  it.scopedLive("refuses a backfill over the budget before fetching any data", () =>
    Effect.gen(function*() {
      const { fake, layer } = yield* setup(1)
      const exit = yield* Effect.exit(Backfill.run({ days: 2, end: "2026-11-18" }).pipe(Effect.provide(layer)))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "BudgetExceeded")
      assert.isFalse(fake.requests().some((r) => r.endpoint === "timeseries.get_range"))
    }))
})

describe("backfill --gaps", () => {
  it("places a gap in every RTH session it overlaps and leaves one outside any session unplaced", () => {
    const gap = (source: string, from: bigint, to: bigint | undefined): StoredGap => ({
      source, fromTs: from, fromSeen: 0, toTs: to, reason: "ReplayRefused", detail: "", status: "pending", records: 0,
      recordedAt: 0, updatedAt: 0
    })
    const plan = Backfill.planGaps([
      // Monday 15:00 → Tuesday 10:00 New York: both sessions, recovered once Tuesday is stored.
      gap("a", nyNs("2026-11-16", 15 * 60), nyNs("2026-11-17", 10 * 60)),
      gap("b", nyNs("2026-11-17", 11 * 60), nyNs("2026-11-17", 11 * 60 + 5)),
      // Saturday, and an evening gap: no RTH session.
      gap("c", nyNs("2026-11-21", 11 * 60), nyNs("2026-11-21", 12 * 60)),
      gap("d", nyNs("2026-11-17", 17 * 60), nyNs("2026-11-17", 18 * 60)),
      // Open-ended: placed only when it starts inside a session.
      gap("e", nyNs("2026-11-18", 12 * 60), undefined),
      gap("f", nyNs("2026-11-18", 20 * 60), undefined)
    ])
    assert.deepStrictEqual(plan.sessions.map((s) => s.tradeDate), ["2026-11-16", "2026-11-17", "2026-11-18"])
    assert.isUndefined(plan.completes.get("2026-11-16"))
    assert.deepStrictEqual(plan.completes.get("2026-11-17")!.map((g) => g.source), ["a", "b"])
    assert.deepStrictEqual(plan.completes.get("2026-11-18")!.map((g) => g.source), ["e"])
    assert.deepStrictEqual(plan.unplaced.map((u) => u.gap.source), ["c", "d", "f"])
  })

  it("places overnight gaps in Globex sessions (18:00 the evening before to 17:00) when the stream runs Globex", () => {
    const gap = (source: string, from: bigint, to: bigint): StoredGap => ({
      source, fromTs: from, fromSeen: 0, toTs: to, reason: "OutageTooLong", detail: "", status: "pending", records: 0,
      recordedAt: 0, updatedAt: 0
    })
    const globex = { ...Calendar.defaultHours, kind: "globex" as const }
    const plan = Backfill.planGaps([
      // Tuesday evening belongs to Wednesday's trade date; Sunday evening opens Monday's.
      gap("evening", nyNs("2026-11-17", 20 * 60), nyNs("2026-11-17", 21 * 60)),
      gap("sunday", nyNs("2026-11-22", 19 * 60), nyNs("2026-11-22", 19 * 60 + 30)),
      // The daily break and Saturday: no session.
      gap("break", nyNs("2026-11-17", 17 * 60 + 10), nyNs("2026-11-17", 17 * 60 + 50)),
      gap("saturday", nyNs("2026-11-21", 11 * 60), nyNs("2026-11-21", 12 * 60))
    ], globex)
    assert.deepStrictEqual(plan.sessions.map((s) => s.tradeDate), ["2026-11-18", "2026-11-23"])
    assert.deepStrictEqual(plan.unplaced.map((u) => [u.gap.source, u.why]), [
      ["break", "it lies outside any Globex session"],
      ["saturday", "it lies outside any Globex session"]
    ])
    // The same evening gap has no RTH session.
    assert.deepStrictEqual(Backfill.planGaps([gap("evening", nyNs("2026-11-17", 20 * 60), nyNs("2026-11-17", 21 * 60))]).sessions, [])
  })

  it.scopedLive("plans the gaps in the sessions IFD_SESSION names", () =>
    Effect.gen(function*() {
      const { fake, layer } = yield* setup(0.5)
      yield* putGap("live", nyNs("2026-11-17", 20 * 60), nyNs("2026-11-17", 21 * 60)).pipe(Effect.provide(layer))
      const withSession = (session: string) =>
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["IFD_SESSION", session]])))
      // RTH: an evening gap lies in no session, so nothing is asked for.
      const rth = yield* Backfill.runGaps().pipe(withSession("rth"), Effect.provide(layer))
      assert.deepStrictEqual([rth.sessions, rth.pending], [0, 1])
      assert.strictEqual(fake.requests().length, 0)
      // Globex: Wednesday's session is planned and priced (and refused by the $0.50 budget).
      const error = yield* Effect.flip(Backfill.runGaps().pipe(withSession("globex"), Effect.provide(layer)))
      assert.strictEqual(error._tag, "BudgetExceeded")
      assert.isTrue(fake.requests().length > 0 && fake.requests().every((r) => r.endpoint === "metadata.get_cost"))
    }))

  it.scopedLive("re-runs a pending gap's session into the truth's windows, marks it recovered, then has nothing to do", () =>
    Effect.gen(function*() {
      const { days, fake, layer, served } = yield* setup(10)
      const day = days[1]!
      // The store as the live feed left it: the day's windows without the gap's records, and the gap pending.
      served.withGap = true
      yield* Backfill.run({ days: 1, end: "2026-11-18" }).pipe(Effect.provide(layer))
      served.withGap = false
      const before = yield* Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(layer))
      const trades = (ws: ReadonlyArray<{ readonly totalTrades: number }>) => ws.reduce((n, w) => n + w.totalTrades, 0)
      assert.isBelow(trades(before), trades(day.truth.windows), "the seeded day lacks the gap's trades")
      yield* putGap("live", day.gap.from, day.gap.to).pipe(Effect.provide(layer))
      // An evening gap: outside any RTH session, reported and left pending.
      yield* putGap("live", nyNs(day.date, 17 * 60), nyNs(day.date, 17 * 60 + 10)).pipe(Effect.provide(layer))
      const seeded = fake.requests().length

      const result = yield* Backfill.runGaps().pipe(Effect.provide(layer))
      assert.deepStrictEqual(result, { sessions: 1, recovered: 1, pending: 1, windows: result.windows, cost: 1 })
      const endpoints = fake.requests().slice(seeded).map((r) => r.endpoint)
      assert.deepStrictEqual(endpoints.slice(0, 2), ["metadata.get_cost", "metadata.get_cost"])
      assert.strictEqual(endpoints.filter((e) => e === "timeseries.get_range").length, 2)
      const rthOpen = String(nyNs(day.date, 9 * 60 + 30))
      assert.isTrue(fake.requests().slice(seeded).every((r) => r.authorized && r.form.start === rthOpen))
      const stored = yield* Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(layer))
      assertSameWindows(stored, day.truth.windows)
      assert.deepStrictEqual((yield* gapsOf(layer)).map((g) => [g.fromTs, g.status]), [
        [day.gap.from, "recovered"],
        [nyNs(day.date, 17 * 60), "pending"]
      ])

      const repaired = fake.requests().length
      const again = yield* Backfill.runGaps().pipe(Effect.provide(layer))
      assert.deepStrictEqual(again, { sessions: 0, recovered: 0, pending: 1, windows: 0, cost: 0 })
      assert.strictEqual(fake.requests().length, repaired)
    }))

  it.scopedLive("refuses gaps over the budget before fetching any data and leaves them pending", () =>
    Effect.gen(function*() {
      const { days, fake, layer } = yield* setup(0.5)
      yield* putGap("live", days[0]!.gap.from, days[0]!.gap.to).pipe(Effect.provide(layer))
      yield* putGap("live", days[1]!.gap.from, days[1]!.gap.to).pipe(Effect.provide(layer))
      const error = yield* Effect.flip(Backfill.runGaps().pipe(Effect.provide(layer)))
      assert.strictEqual(error._tag, "BudgetExceeded")
      assert.deepStrictEqual(fake.requests().map((r) => r.endpoint), Array(4).fill("metadata.get_cost"))
      assert.deepStrictEqual((yield* gapsOf(layer)).map((g) => g.status), ["pending", "pending"])
    }))

  it.scopedLive("with no pending gap says so and makes no request at all", () =>
    Effect.gen(function*() {
      const { days, fake, layer } = yield* setup(10)
      yield* putGap("live", days[1]!.gap.from, days[1]!.gap.to, "recovered").pipe(Effect.provide(layer))
      const result = yield* Backfill.runGaps().pipe(Effect.provide(layer))
      assert.deepStrictEqual(result, { sessions: 0, recovered: 0, pending: 0, windows: 0, cost: 0 })
      assert.strictEqual(fake.requests().length, 0)
    }))
})
