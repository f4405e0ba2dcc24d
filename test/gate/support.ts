/** SQLite with the cost ledger migrated (as the store's migrator will run it), and a Budget over it, for tests. */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import * as Migrator from "@effect/sql/Migrator"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import * as Budget from "../../src/gate/Budget.js"
import LedgerMigration, * as Ledger from "../../src/store/migrations/0002_cost_ledger.js"

const migrate = Layer.effectDiscard(
  Migrator.make({})({ loader: Migrator.fromRecord({ [Ledger.name]: LedgerMigration }) }).pipe(Effect.orDie)
)

/** A database file (":memory:" for a private one) with `cost_ledger`; re-opening a file migrates nothing twice. */
export const ledgerDb = (filename: string) =>
  migrate.pipe(Layer.provideMerge(SqliteClient.layer({ filename })), Layer.orDie)

/** Budget, LedgerRepo and SqlClient over `filename`. */
export const budgetLayer = (settings: Partial<Budget.BudgetSettings> = {}, filename = ":memory:") =>
  Budget.layer(settings).pipe(Layer.provideMerge(ledgerDb(filename)))

/** 1 byte = $0.001, limit $8 = 8,000 bytes: small numbers for byte-exact cutoff tests. */
export const tiny: Partial<Budget.BudgetSettings> = { pricePerGb: 1e6, dailyBudget: 10, cutoff: 0.8 }

/** A fresh directory removed when the scope closes. */
export const tempDir = Effect.flatMap(
  FileSystem.FileSystem,
  (fs) => fs.makeTempDirectoryScoped({ prefix: "ifd-gate-" })
).pipe(Effect.provide(NodeFileSystem.layer))
