import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Exit, Layer, Redacted } from "effect"
import * as path from "node:path"
import * as Backfill from "../../src/app/Backfill.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import { DbnWriter } from "../../src/dbn/Encoder.js"
import * as Budget from "../../src/gate/Budget.js"
import * as Calendar from "../../src/gate/Calendar.js"
import * as Historical from "../../src/historical/Historical.js"
import * as Simulator from "../../src/sim/Simulator.js"
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
  return { truth, bySchema: { definition: definitions.toBytes(), mbo: mbo.toBytes() } as Record<string, Uint8Array> }
}

const setup = (dailyBudget: number) =>
  Effect.gen(function*() {
    const days = DAYS.map((d, i) => ({ date: d, ...dayData(d, 40 + i) }))
    const fake = yield* FakeHistorical.serve({
      apiKey: KEY,
      cost: 0.5,
      dataFor: (form) => {
        const date = Calendar.nyDate(Number(BigInt(form.start!) / 1_000_000n))
        return days.find((d) => d.date === date)?.bySchema[form.schema!] ?? new Uint8Array(0)
      }
    })
    const db = path.join(yield* tempDir, "ifd.sqlite")
    const layer = Historical.layer({ apiKey: Redacted.make(KEY), baseUrl: fake.url }).pipe(
      Layer.provide(NodeHttpClient.layerUndici),
      Layer.provideMerge(Budget.layer({ dailyBudget, cutoff: 1 })),
      Layer.provideMerge(Store.layer({ filename: db }))
    )
    return { days, fake, layer }
  })

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
