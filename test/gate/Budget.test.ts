import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Chunk, ConfigProvider, Effect, Exit, Fiber, Layer, Ref, Stream, TestClock } from "effect"
import * as path from "node:path"
import * as BudgetModule from "../../src/gate/Budget.js"
import { Budget } from "../../src/gate/Budget.js"
import LedgerMigration, * as Ledger from "../../src/store/migrations/0002_cost_ledger.js"
import { LedgerRepo } from "../../src/gate/LedgerRepo.js"
import Init from "../../src/store/migrations/0001_init.js"
import { budgetLayer, tempDir, tiny } from "./support.js"

const ms = (iso: string) => Date.parse(iso)
const setTime = (iso: string) => TestClock.setTime(ms(iso))

/** Runs `program` with a Budget built at `iso` (the layer reads the clock when it starts). */
const at = <A, E>(
  iso: string,
  program: Effect.Effect<A, E, Budget | LedgerRepo | SqlClient.SqlClient>,
  settings: Partial<BudgetModule.BudgetSettings> = tiny,
  filename = ":memory:"
) => Effect.zipRight(setTime(iso), Effect.provide(program, budgetLayer(settings, filename)))

/** `n` batches of `size` bytes, one per upstream chunk, counting how many were pulled. */
const batches = (n: number, size: number, pulled: Ref.Ref<number>) =>
  Stream.range(1, n).pipe(
    Stream.rechunk(1),
    Stream.tap(() => Ref.update(pulled, (k) => k + 1)),
    Stream.map(() => new Uint8Array(size))
  )

const MONDAY = "2025-06-02T14:00:00Z" // 10:00 EDT

describe("Budget cutoff", () => {
  it.effect("ends the stream after the batch that crosses the cutoff and pulls no further batch", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      const pulled = yield* Ref.make(0)
      const out = yield* Stream.runCollect(budget.guard(batches(10, 3_000, pulled)))
      assert.strictEqual(Chunk.size(out), 3) // 9,000 bytes: one batch over the 8,000-byte cutoff
      assert.strictEqual(yield* Ref.get(pulled), 3)
      const s = yield* budget.state
      assert.strictEqual(s.liveBytes, 9_000)
      assert.closeTo(s.spentUsd, 9, 1e-9)
      assert.isTrue(s.exhausted)
      assert.strictEqual(s.remainingUsd, 0)
      assert.isTrue(yield* budget.exhausted)
    })))

  it.effect("stops exactly at the cutoff when a batch lands on it", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      const pulled = yield* Ref.make(0)
      const out = yield* Stream.runCollect(budget.guard(batches(10, 1_000, pulled)))
      assert.strictEqual(Chunk.size(out), 8)
      assert.strictEqual((yield* budget.state).liveBytes, 8_000)
    })))

  it.effect("counts every byte of a received chunk but passes on only the batches up to the crossing one", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      const oneChunk = Stream.fromIterable(Array.from({ length: 10 }, () => new Uint8Array(3_000)))
      const out = yield* Stream.runCollect(budget.guard(oneChunk))
      assert.strictEqual(Chunk.size(out), 3)
      assert.strictEqual((yield* budget.state).liveBytes, 30_000)
    })))

  it.effect("does not start a stream once the day is exhausted", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      yield* budget.record(8_500)
      const pulled = yield* Ref.make(0)
      const out = yield* Stream.runCollect(budget.guard(batches(5, 10, pulled)))
      assert.strictEqual(Chunk.size(out), 0)
      assert.strictEqual(yield* Ref.get(pulled), 0)
    })))

  it.effect("meters elements by a size function", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      const sized = Stream.fromIterable([{ bytes: 5_000 }, { bytes: 5_000 }, { bytes: 5_000 }]).pipe(Stream.rechunk(1))
      const out = yield* Stream.runCollect(budget.guardBy((e: { bytes: number }) => e.bytes)(sized))
      assert.strictEqual(Chunk.size(out), 2)
    })))

  it.effect("halts a stream whose bytes are recorded elsewhere after the element that hit the cutoff", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      const recorded = Stream.range(1, 10).pipe(Stream.rechunk(1), Stream.tap(() => budget.record(3_000)))
      const out = yield* Stream.runCollect(budget.haltWhenExhausted(recorded))
      assert.deepStrictEqual(Chunk.toReadonlyArray(out), [1, 2, 3])
    })))

  it.effect("ignores negative and non-finite byte counts", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      yield* budget.record(-5)
      yield* budget.record(Number.NaN)
      assert.strictEqual((yield* budget.record(10)).liveBytes, 10)
    })))
})

describe("Budget persistence", () => {
  it.scoped("continues from what was spent after a restart on the same trade date", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDir, "ifd.sqlite")
      yield* at(MONDAY, Effect.gen(function*() {
        const budget = yield* Budget
        yield* budget.record(2_500)
        yield* budget.record(2_500)
        yield* budget.charge(1, "historical test")
      }), tiny, file)
      yield* at("2025-06-02T19:00:00Z", Effect.gen(function*() {
        const budget = yield* Budget
        const s = yield* budget.state
        assert.strictEqual(s.liveBytes, 5_000)
        assert.closeTo(s.spentUsd, 6, 1e-9)
        assert.closeTo(s.historicalUsd, 1, 1e-9)
        const pulled = yield* Ref.make(0)
        const out = yield* Stream.runCollect(budget.guard(batches(10, 1_500, pulled)))
        assert.strictEqual(Chunk.size(out), 2) // 6 + 1.5 + 1.5 = 9 ≥ 8
      }), tiny, file)
      yield* at("2025-06-02T20:00:00Z", Effect.gen(function*() {
        const s = yield* (yield* Budget).state
        assert.strictEqual(s.liveBytes, 8_000)
        assert.isTrue(s.exhausted)
      }), tiny, file)
      // The next trade date starts from zero, and the month keeps all of it.
      yield* at("2025-06-03T14:00:00Z", Effect.gen(function*() {
        const s = yield* (yield* Budget).state
        assert.strictEqual(s.tradeDate, "2025-06-03")
        assert.strictEqual(s.spentUsd, 0)
        assert.closeTo(s.monthUsd, 9, 1e-9)
      }), tiny, file)
    }))

  it.effect("writes to the ledger within seconds, not once per batch", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      const ledger = yield* LedgerRepo
      const sql = yield* SqlClient.SqlClient
      const rows = sql<{ n: number }>`SELECT COUNT(*) AS n FROM cost_ledger`.pipe(Effect.map((r) => r[0]!.n))
      for (let i = 0; i < 50; i++) yield* budget.record(1) // $0.05 in all: below 1 % of the $8 limit
      assert.strictEqual(yield* rows, 0)
      yield* TestClock.adjust("5 seconds")
      yield* budget.record(1)
      assert.strictEqual(yield* rows, 1)
      assert.strictEqual((yield* ledger.day("2025-06-02")).liveBytes, 51)
      yield* budget.record(100) // $0.10 unsaved ≥ 1 % of the limit
      assert.strictEqual(yield* rows, 2)
      assert.strictEqual((yield* budget.state).unsavedUsd, 0)
    })))

  it.effect("keeps metering in memory when the ledger cannot be written", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP TABLE cost_ledger`
      const s = yield* budget.record(4_000)
      assert.strictEqual(s.liveBytes, 4_000)
      assert.closeTo(s.unsavedUsd, 4, 1e-9)
      assert.isTrue((yield* budget.record(4_000)).exhausted)
    })))

  it.effect("registers after the store's 0001_init and applies once", () =>
    Effect.gen(function*() {
      const loader = Migrator.fromRecord({ "0001_init": Init, [Ledger.name]: LedgerMigration })
      const run = Migrator.make({})({ loader })
      assert.deepStrictEqual(yield* run, [[1, "init"], [2, "cost_ledger"]])
      assert.deepStrictEqual(yield* run, [])
      const sql = yield* SqlClient.SqlClient
      const cols = yield* sql<{ name: string }>`SELECT name FROM pragma_table_info('cost_ledger')`
      assert.deepStrictEqual(
        cols.map((c) => c.name),
        ["id", "trade_date", "kind", "bytes", "usd", "detail", "recorded_at"]
      )
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" }).pipe(Layer.orDie))))
})

describe("Budget trade dates", () => {
  it.effect("rolls over at 18:00 New York time and starts the new trade date at zero", () =>
    at("2025-06-02T21:00:00Z", Effect.gen(function*() {
      const budget = yield* Budget
      assert.isTrue((yield* budget.record(9_000)).exhausted)
      yield* setTime("2025-06-02T21:59:59.999Z")
      assert.isTrue(yield* budget.exhausted)
      yield* setTime("2025-06-02T22:00:00Z") // 18:00 EDT
      const s = yield* budget.state
      assert.strictEqual(s.tradeDate, "2025-06-03")
      assert.strictEqual(s.spentUsd, 0)
      assert.isFalse(s.exhausted)
      assert.closeTo(s.monthUsd, 9, 1e-9)
      const ledger = yield* LedgerRepo
      assert.strictEqual((yield* ledger.day("2025-06-02")).liveBytes, 9_000)
    })))

  it.effect("rolls over at midnight when IFD_BUDGET_ROLLOVER is 00:00", () =>
    at("2025-06-02T22:30:00Z", Effect.gen(function*() {
      const budget = yield* Budget
      assert.strictEqual((yield* budget.state).tradeDate, "2025-06-02")
      yield* setTime("2025-06-03T04:00:00Z")
      assert.strictEqual((yield* budget.state).tradeDate, "2025-06-03")
    }), { ...tiny, rolloverMinute: 0 }))

  it.effect("waits for the next trade date when exhausted, then lets streaming resume", () =>
    at("2025-12-01T15:00:00Z", Effect.gen(function*() {
      const budget = yield* Budget
      yield* budget.record(8_000)
      const fiber = yield* Effect.fork(budget.untilAvailable)
      yield* setTime("2025-12-01T22:59:59.999Z")
      assert.isNull(fiber.unsafePoll())
      yield* setTime("2025-12-01T23:00:00Z") // 18:00 EST
      yield* Fiber.join(fiber)
      const pulled = yield* Ref.make(0)
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(budget.guard(batches(2, 100, pulled)))), 2)
    })))

  it.effect("gate reruns on the next trade date after a cutoff stop and returns when the run just ends", () =>
    at("2025-06-02T14:00:00Z", Effect.gen(function*() {
      const budget = yield* Budget
      const runs = yield* Ref.make(0)
      const run = Effect.zipRight(
        Ref.updateAndGet(runs, (n) => n + 1),
        Effect.flatMap(Ref.get(runs), (n) => n === 1 ? Effect.asVoid(budget.record(9_000)) : Effect.void)
      )
      const fiber = yield* Effect.fork(budget.gate(run))
      yield* Effect.yieldNow()
      assert.strictEqual(yield* Ref.get(runs), 1)
      yield* setTime("2025-06-02T22:00:00Z")
      yield* Fiber.join(fiber)
      assert.strictEqual(yield* Ref.get(runs), 2)
    })))

  it.effect("sums the month over its trade dates and starts a new month at zero", () =>
    at("2025-06-27T14:00:00Z", Effect.gen(function*() {
      const budget = yield* Budget
      yield* budget.record(2_000)
      yield* setTime("2025-06-30T14:00:00Z")
      yield* budget.record(3_000)
      yield* budget.charge(0.5, "historical test")
      const june = yield* budget.state
      assert.closeTo(june.monthUsd, 5.5, 1e-9)
      assert.strictEqual(june.monthLiveBytes, 5_000)
      yield* setTime("2025-06-30T22:00:00Z") // 18:00 EDT: trade date 2025-07-01
      const july = yield* budget.state
      assert.strictEqual(july.month, "2025-07")
      assert.strictEqual(july.monthUsd, 0)
      const ledger = yield* LedgerRepo
      const days = yield* ledger.days("2025-06-01", "2025-06-30")
      assert.deepStrictEqual(
        days.map((d) => [d.tradeDate, d.liveBytes]),
        [["2025-06-27", 2_000], ["2025-06-30", 3_000]]
      )
      const month = yield* ledger.month("2025-06")
      assert.closeTo(month.usd, 5.5, 1e-9)
      assert.closeTo(month.historicalUsd, 0.5, 1e-9)
    })))
})

describe("Budget purchases and reports", () => {
  it.effect("refuses a historical purchase that would pass the limit and charges one that fits", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      yield* budget.record(5_000)
      const refused = yield* Effect.exit(budget.spend(3.5, "timeseries.get_range GLBX.MDP3 mbo"))
      assert.isTrue(Exit.isFailure(refused))
      const error = yield* Effect.flip(budget.authorize(3.5, "timeseries.get_range GLBX.MDP3 mbo"))
      assert.strictEqual(error._tag, "BudgetExceeded")
      assert.include(error.message, "would cost $3.50")
      assert.include(error.message, "$5.00 of the $8.00 limit for 2025-06-02")
      const s = yield* budget.spend(3, "fits")
      assert.closeTo(s.spentUsd, 8, 1e-9)
      assert.isTrue(s.exhausted)
      yield* budget.record(500)
      assert.closeTo((yield* budget.authorize(0, "a free request")).spentUsd, 8.5, 1e-9)
    })))

  it.effect("reports daily and monthly totals and the cost per signal", () =>
    at(MONDAY, Effect.gen(function*() {
      const budget = yield* Budget
      yield* budget.record(4_000)
      const r = yield* budget.report({ today: 8, month: 0 })
      assert.closeTo(r.perSignal.today!, 0.5, 1e-9)
      assert.isUndefined(r.perSignal.month)
      assert.strictEqual(
        BudgetModule.formatReport(r),
        "2025-06-02: $4.00 of $8.00 (0.0 MB live, $0.50/signal); 2025-06: $4.00"
      )
    })))

  it.effect("reads IFD_PRICE_PER_GB, IFD_DAILY_BUDGET, IFD_BUDGET_CUTOFF and IFD_BUDGET_ROLLOVER", () =>
    Effect.gen(function*() {
      const read = (entries: ReadonlyArray<readonly [string, string]>) =>
        Effect.withConfigProvider(BudgetModule.config, ConfigProvider.fromMap(new Map(entries)))
      assert.deepStrictEqual(yield* read([]), BudgetModule.defaults)
      assert.deepStrictEqual(
        yield* read([["IFD_PRICE_PER_GB", "2.5"], ["IFD_DAILY_BUDGET", "25"], ["IFD_BUDGET_CUTOFF", "0.9"], [
          "IFD_BUDGET_ROLLOVER",
          "00:00"
        ]]),
        { pricePerGb: 2.5, dailyBudget: 25, cutoff: 0.9, rolloverMinute: 0 }
      )
      assert.isTrue(Exit.isFailure(yield* Effect.exit(read([["IFD_BUDGET_CUTOFF", "1.5"]]))))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(read([["IFD_BUDGET_ROLLOVER", "6pm"]]))))
    }))
})
