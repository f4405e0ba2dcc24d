import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { Effect, Layer } from "effect"
import type { WindowSignal } from "../../../src/flow/Signals.js"
import * as Migrations from "../../../src/store/Migrations.js"
import Init from "../../../src/store/migrations/0001_init.js"
import CostLedger from "../../../src/store/migrations/0002_cost_ledger.js"
import Signals from "../../../src/store/migrations/0003_signals.js"
import Gaps from "../../../src/store/migrations/0004_gaps.js"
import { SignalsRepo } from "../../../src/store/SignalsRepo.js"
import * as Sql from "../../../src/store/Sql.js"
import { signal } from "../../support/Dashboard.js"

/** The schema as it stood before 0005. */
const upTo0004 = Migrator.make({})({
  loader: Migrator.fromRecord({
    "0001_init": Init,
    "0002_cost_ledger": CostLedger,
    "0003_signals": Signals,
    "0004_gaps": Gaps
  })
})

const rows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`SELECT * FROM signals ORDER BY window_start, expiration, strike, option_type`)

const indexes = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ name: string; sql: string }>`SELECT name, sql FROM sqlite_schema
    WHERE type = 'index' AND tbl_name = 'signals' ORDER BY name`)

const T0 = Date.parse("2026-11-18T14:30:00Z")

const stored: Array<WindowSignal> = Array.from({ length: 60 }, (_, i) =>
  signal({
    windowStart: T0 + 300_000 * Math.floor(i / 6),
    expiration: "2026-11-20",
    strike: 21_500 + 50 * (i % 3),
    optionType: i % 2 === 0 ? "C" : "P",
    reported: i % 4 === 0
  }))

describe("migration 0005_signals_indexes", () => {
  it.effect("replaces the day and reported indexes with a partial one and keeps every signal row", () =>
    Effect.gen(function*() {
      yield* upTo0004
      const repo = yield* SignalsRepo
      yield* repo.insert(stored)
      const before = yield* rows
      assert.deepStrictEqual((yield* indexes).map((i) => i.name), ["signals_by_day", "signals_reported"])

      const ran = yield* Migrations.run
      assert.deepStrictEqual(ran, [[5, "signals_indexes"]])
      assert.lengthOf(before, stored.length)
      assert.deepStrictEqual(yield* rows, before)
      const after = yield* indexes
      assert.deepStrictEqual(after.map((i) => i.name), ["signals_reported_at"])
      assert.match(after[0]!.sql, /ON signals \(window_start\) WHERE reported = 1$/)
      assert.strictEqual(yield* repo.count(true), stored.filter((s) => s.reported).length)
      assert.deepStrictEqual(yield* repo.days(), ["2026-11-18"])
      const check = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ integrity_check: string }>`PRAGMA integrity_check`)
      assert.deepStrictEqual(check, [{ integrity_check: "ok" }])
    }).pipe(Effect.provide(SignalsRepo.Default.pipe(
      Layer.provideMerge(Sql.layerClient({ filename: ":memory:" }))
    ))))
})
