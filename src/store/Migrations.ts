/**
 * The schema's migrations, statically imported so `dist/` needs no migration files at run time, and the
 * migrator that applies the missing ones inside one transaction. Migrations are never edited; a change is a new number.
 */
import * as Migrator from "@effect/sql/Migrator"
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import Init from "./migrations/0001_init.js"
import CostLedger from "./migrations/0002_cost_ledger.js"
import Signals from "./migrations/0003_signals.js"
import Gaps from "./migrations/0004_gaps.js"
import SignalsIndexes from "./migrations/0005_signals_indexes.js"
import { fromSqlError, sqliteCode, StoreError } from "./StoreError.js"

export const loader = Migrator.fromRecord({
  "0001_init": Init,
  "0002_cost_ledger": CostLedger,
  "0003_signals": Signals,
  "0004_gaps": Gaps,
  "0005_signals_indexes": SignalsIndexes
})

const migrator = Migrator.make({})

/** Applies every migration not yet recorded in `effect_sql_migrations`; returns the ones it ran. */
export const run: Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, StoreError, SqlClient> = migrator({
  loader
}).pipe(
  Effect.catchTags({
    SqlError: (e) => Effect.fail(fromSqlError("Migrations.run", "Migrate")(e)),
    MigrationError: (e) =>
      Effect.fail(new StoreError({ reason: "Migrate", operation: "Migrations.run", detail: e.reason }))
  }),
  // The migrator turns a failing migration into a defect; it is still a storage failure the caller must see typed.
  Effect.catchAllDefect((defect) =>
    isMigrationError(defect)
      ? Effect.fail(
        new StoreError({
          reason: "Migrate",
          operation: "Migrations.run",
          detail: `${defect.message}${sqliteCode(defect.cause) === undefined ? "" : ` (${sqliteCode(defect.cause)})`}`
        })
      )
      : Effect.die(defect)
  )
)

const isMigrationError = (u: unknown): u is Migrator.MigrationError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "MigrationError"
