/**
 * The SQLite handle: opening the file (a typed `StoreError` when it cannot be), the connection PRAGMAs and the
 * migrations. `layer`, `layerConfig` (IFD_DB) and `layerMemory` give `SqliteClient` and `SqlClient`, set up
 * and migrated.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Config, Context, Effect, Layer } from "effect"
import * as Migrations from "./Migrations.js"
import { fromSqlError, sqliteCode, StoreError } from "./StoreError.js"

export interface Options {
  /** Database file; ":memory:" for a private in-memory database. */
  readonly filename: string
}

export const defaults: Options = { filename: "./ifd.sqlite" }

export const config: Config.Config<Options> = Config.all({
  filename: Config.string("IFD_DB").pipe(
    Config.withDefault(defaults.filename),
    Config.withDescription("SQLite database file (created if missing; its directory must exist)")
  )
})

/** Milliseconds a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const busyTimeoutMs = 5_000

/** The client alone, without PRAGMAs or migrations; `StoreError { reason: "Open" }` when the file cannot be opened. */
export const layerClient = (
  options: Options
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> =>
  Layer.scopedContext(
    // journal_mode is set by `setup` with the other PRAGMAs, so the open itself only opens.
    SqliteClient.make({ filename: options.filename, disableWAL: true }).pipe(
      // better-sqlite3 throws from its constructor, which the client does not catch: it arrives as a defect.
      Effect.catchAllDefect((defect) =>
        Effect.fail(
          new StoreError({
            reason: "Open",
            operation: "Sql.open",
            detail: `cannot open database file ${options.filename}${openCause(defect)}`
          })
        )
      ),
      Effect.map((client) =>
        Context.make(SqliteClient.SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
      )
    )
  ).pipe(Layer.provide(Reactivity.layer))

const openCause = (defect: unknown): string => {
  const code = sqliteCode(defect)
  if (code !== undefined) return ` (${code})`
  const missingDir = defect instanceof TypeError && /directory does not exist/.test(defect.message)
  return missingDir ? " (directory does not exist)" : ""
}

/** Connection PRAGMAs, then migrations. PRAGMAs are per connection, and the client holds exactly one. */
export const setup: Effect.Effect<void, StoreError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const pragmas = Effect.gen(function*() {
    // WAL: readers (export, status) never block the writer, and a commit appends to the log instead of rewriting pages.
    const mode = yield* sql<{ journal_mode: string }>`PRAGMA journal_mode = WAL`
    if (mode[0]?.journal_mode !== "wal" && mode[0]?.journal_mode !== "memory") {
      yield* Effect.logWarning("SQLite refused WAL; using a rollback journal").pipe(
        Effect.annotateLogs("journal_mode", String(mode[0]?.journal_mode))
      )
    }
    // NORMAL under WAL fsyncs only at checkpoints: a power loss may drop the last commits but never corrupts the file,
    // and windows are recomputable from the source; FULL would fsync every batch.
    yield* sql`PRAGMA synchronous = NORMAL`
    // SQLite leaves foreign keys off per connection unless asked; flagged_records.run_id relies on them.
    yield* sql`PRAGMA foreign_keys = ON`
    // Statement journals of the multi-row upserts (INSERT OR REPLACE in a transaction) stay in memory, not temp files.
    yield* sql`PRAGMA temp_store = MEMORY`
    // Another process (an export, the sqlite3 shell) may hold the lock briefly: wait for it rather than fail at once.
    yield* sql.unsafe(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
  }).pipe(Effect.mapError(fromSqlError("Sql.setup", "Open")))
  yield* pragmas
  yield* Migrations.run
})

export const layerSetup: Layer.Layer<never, StoreError, SqlClient.SqlClient> = Layer.effectDiscard(setup)

/** A set-up, migrated database at `options.filename`. */
export const layer = (options: Options): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> =>
  layerSetup.pipe(Layer.provideMerge(layerClient(options)))

/** `layer` on the file named by IFD_DB (default ./ifd.sqlite). */
export const layerConfig = Layer.unwrapEffect(Effect.map(config, layer))

/** A fresh private in-memory database per build, for tests. */
export const layerMemory = layer({ filename: ":memory:" })
