import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Spending from "../../src/app/Spending.js"
import { Budget } from "../../src/gate/Budget.js"
import * as BudgetModule from "../../src/gate/Budget.js"
import { SignalsRepo } from "../../src/store/SignalsRepo.js"
import * as Store from "../../src/store/Store.js"
import { cli } from "../support/Cli.js"
import { signal } from "../support/Dashboard.js"
import { makeTempDir, tempDir } from "../support/TempDir.js"

/** The budget ($1 per MB, $10 a day, cut off at 80 %) over a database file. */
const budgetOn = (db: string) =>
  BudgetModule.layer({ pricePerGb: 1000, dailyBudget: 10, cutoff: 0.8 }).pipe(
    Layer.provideMerge(Store.layer({ filename: db }))
  )

describe("budget report", () => {
  it.scoped("reports the day's and the month's spending and the cost per reported signal, across a restart", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-11-18T16:00:00Z")) // Wednesday 11:00 New York: trade date 11-18
      const db = path.join(yield* tempDir, "ifd.sqlite")
      yield* Effect.gen(function*() {
        // 2 MB live today ($2), plus a $0.50 historical purchase.
        const budget = yield* Budget
        yield* budget.record(2_000_000)
        yield* budget.charge(0.5, "a historical range")
        yield* budget.flush
        const signals = yield* SignalsRepo
        const at = (day: string, i: number) =>
          signal({ windowStart: Date.parse(`${day}T15:00:00Z`) + i * 300_000, expiration: "2026-12-18", strike: 21_500, day })
        // Five reported signals today, two earlier this month, one not reported (not counted).
        yield* signals.insert([0, 1, 2, 3, 4].map((i) => at("2026-11-18", i)))
        yield* signals.insert([0, 1].map((i) => at("2026-11-03", i)))
        yield* signals.insert([{ ...at("2026-11-18", 9), reported: false }])
      }).pipe(Effect.provide(budgetOn(db)), Effect.scoped)

      // A new process on the same file (as the `budget` command is) sees what was spent.
      const r = yield* Spending.report.pipe(Effect.provide(budgetOn(db)))
      assert.strictEqual(r.tradeDate, "2026-11-18")
      assert.closeTo(r.spentUsd, 2.5, 1e-9)
      assert.closeTo(r.monthUsd, 2.5, 1e-9)
      assert.closeTo(r.perSignal.today!, 0.5, 1e-9)
      assert.closeTo(r.perSignal.month!, 2.5 / 7, 1e-9)
      assert.closeTo(r.remainingUsd, 5.5, 1e-9)
    }))

  it.scoped("counts the evening's signals toward the next trade date, as the spending is", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-11-19T00:30:00Z")) // Wednesday 19:30 New York: trade date 11-19
      const db = path.join(yield* tempDir, "ifd.sqlite")
      const r = yield* Effect.gen(function*() {
        const budget = yield* Budget
        yield* budget.record(1_000_000) // $1 on trade date 11-19
        yield* budget.flush
        const signals = yield* SignalsRepo
        const at = (utc: string) =>
          signal({ windowStart: Date.parse(utc), expiration: "2026-12-18", strike: 21_500, day: "2026-11-18" })
        yield* signals.insert([at("2026-11-18T23:30:00Z"), at("2026-11-18T15:00:00Z")]) // 18:30 and 10:00 New York
        return yield* Spending.report
      }).pipe(Effect.provide(budgetOn(db)))
      assert.strictEqual(r.tradeDate, "2026-11-19")
      assert.closeTo(r.perSignal.today!, 1, 1e-9)
      assert.closeTo(r.perSignal.month!, 0.5, 1e-9)
    }))

  it("the command prints the report from a database file", async () => {
    const dir = makeTempDir()
    const out = await cli(["budget", "--db", path.join(dir, "ifd.sqlite")])
    assert.strictEqual(out.code, 0, out.stderr)
    assert.match(out.stdout, /\$0\.00 of \$8\.00/)
    const json = await cli(["budget", "--db", path.join(dir, "ifd.sqlite"), "--json"])
    assert.strictEqual(JSON.parse(json.stdout).limitUsd, 8)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
