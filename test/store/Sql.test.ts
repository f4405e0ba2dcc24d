import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { ConfigProvider, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Migrations from "../../src/store/Migrations.js"
import * as Sql from "../../src/store/Sql.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { tempDir, window } from "./support.js"

// Tables of 0001_init plus those later migrations add; every registered migration must be recorded.
const TABLES = ["checkpoints", "daily_summaries", "flagged_records", "runs", "windows"]
const LATER_TABLES = ["cost_ledger"]

const registered = Effect.map(Migrations.loader, (ms) =>
  ms.map(([migration_id, name]) => ({ migration_id, name })).sort((a, b) => a.migration_id - b.migration_id))

const tables = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ name: string }>`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
    AND name <> 'effect_sql_migrations' ORDER BY name`).pipe(Effect.map((rows) => rows.map((r) => r.name)))

const migrations = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ migration_id: number; name: string }>`SELECT migration_id, name FROM effect_sql_migrations`)

describe("Sql", () => {
  it.effect("creates every table and records every registered migration in a fresh in-memory database", () =>
    Effect.gen(function*() {
      const names = yield* tables
      for (const t of [...TABLES, ...LATER_TABLES]) assert.include(names, t)
      const expected = yield* registered
      assert.deepStrictEqual(expected[0], { migration_id: 1, name: "init" })
      assert.deepStrictEqual(yield* migrations, expected)
    }).pipe(Effect.provide(Sql.layerMemory)))

  it.scoped("reopening a migrated file runs no migration again and keeps its rows", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "ifd.sqlite")
      yield* Effect.flatMap(WindowsRepo, (repo) => repo.upsert([window()])).pipe(
        Effect.provide(Store.layer({ filename }))
      )
      const [ran, after, count] = yield* Effect.all([
        Migrations.run,
        migrations,
        Effect.flatMap(WindowsRepo, (repo) => repo.count()),
        tables
      ]).pipe(Effect.provide(Store.layer({ filename })))
      assert.deepStrictEqual(ran, [])
      assert.deepStrictEqual(after, yield* registered)
      assert.strictEqual(count, 1)
    }))

  it.scoped("sets WAL, synchronous NORMAL, foreign keys, the busy timeout and temp storage in memory on a file", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "ifd.sqlite")
      const pragmas = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return {
          journal: (yield* sql<{ journal_mode: string }>`PRAGMA journal_mode`)[0]?.journal_mode,
          synchronous: (yield* sql<{ synchronous: number }>`PRAGMA synchronous`)[0]?.synchronous,
          foreignKeys: (yield* sql<{ foreign_keys: number }>`PRAGMA foreign_keys`)[0]?.foreign_keys,
          busyTimeout: (yield* sql<{ timeout: number }>`PRAGMA busy_timeout`)[0]?.timeout,
          tempStore: (yield* sql<{ temp_store: number }>`PRAGMA temp_store`)[0]?.temp_store
        }
      }).pipe(Effect.provide(Sql.layer({ filename })))
      assert.deepStrictEqual(pragmas, {
        journal: "wal",
        synchronous: 1,
        foreignKeys: 1,
        busyTimeout: Sql.busyTimeoutMs,
        // 2 = MEMORY
        tempStore: 2
      })
    }))

  it.scoped("a database path under a regular file fails with StoreError Open, not a driver defect", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDir, "not-a-directory")
      fs.writeFileSync(file, "x")
      const filename = path.join(file, "ifd.sqlite")
      const error = yield* Effect.flip(Effect.provide(Effect.void, Sql.layer({ filename })))
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual(error.reason, "Open")
      assert.strictEqual(error.operation, "Sql.open")
      assert.include(error.detail, "SQLITE_CANTOPEN")
    }))

  it.scoped("a database path in a missing directory fails with StoreError Open", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "missing", "ifd.sqlite")
      const error = yield* Effect.flip(Effect.provide(Effect.void, Sql.layer({ filename })))
      assert.strictEqual(error.reason, "Open")
      assert.include(error.message, "directory does not exist")
    }))

  it.scoped("a migration that fails surfaces as StoreError Migrate and records nothing", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "ifd.sqlite")
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE windows (x INTEGER)`).pipe(
        Effect.provide(Sql.layerClient({ filename }))
      )
      const error = yield* Effect.flip(Effect.provide(Effect.void, Sql.layer({ filename })))
      assert.strictEqual(error.reason, "Migrate")
      assert.strictEqual(error.operation, "Migrations.run")
      const recorded = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ n: number }>`SELECT COUNT(*) AS n FROM effect_sql_migrations`).pipe(
          Effect.provide(Sql.layerClient({ filename }))
        )
      assert.deepStrictEqual(recorded, [{ n: 0 }])
    }))

  it.scoped("layerConfig opens the file named by IFD_DB", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "from-env.sqlite")
      const config = Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["IFD_DB", filename]])))
      yield* Effect.provide(tables, Sql.layerConfig.pipe(Layer.provide(config)))
      assert.isTrue(fs.existsSync(filename))
    }))
})
