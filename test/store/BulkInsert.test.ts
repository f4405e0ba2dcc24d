import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { BulkInsert } from "../../src/store/BulkInsert.js"
import * as Sql from "../../src/store/Sql.js"

const table = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
const rows = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ k: number; v: string }>`SELECT k, v FROM t ORDER BY k`)
const insert = new BulkInsert("INSERT INTO t (k, v)", 2, "")
const bind = (out: Array<unknown>, at: number, k: number) => {
  out[at] = k
  out[at + 1] = `v${k}`
  return at + 2
}

describe("BulkInsert", () => {
  it.effect("writes every row through each statement shape, in a transaction of its own when the caller has none", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* table
      // 341 = 256 + 64 + 16 + 4 + 1: one statement of each shape
      const ks = Array.from({ length: 341 }, (_, i) => i + 1)
      assert.strictEqual(yield* insert.run(sql, ks, bind), 341)
      assert.deepStrictEqual(yield* rows, ks.map((k) => ({ k, v: `v${k}` })))
    }).pipe(Effect.provide(Sql.layerMemory)))

  it.effect("keeps every row when statements of one shape share their values array", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* table
      // 3 × 256 + 2 × 64 + 3: the second and third 256-row statements and the second 64-row one reuse an array
      const ks = Array.from({ length: 899 }, (_, i) => 5 * i + 3)
      assert.strictEqual(yield* insert.run(sql, ks, bind), 899)
      assert.deepStrictEqual(yield* rows, ks.map((k) => ({ k, v: `v${k}` })))
    }).pipe(Effect.provide(Sql.layerMemory)))

  it.effect("refuses a bind that writes the wrong number of values, writing nothing", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* table
      const short = (out: Array<unknown>, at: number, k: number) => {
        out[at] = k
        return at + 1
      }
      const exit = yield* Effect.exit(insert.run(sql, [1, 2, 3], short))
      assert.isTrue(exit._tag === "Failure" && String(exit.cause).includes("1 values for a row of 2 columns"))
      assert.deepStrictEqual(yield* rows, [])
    }).pipe(Effect.provide(Sql.layerMemory)))

  it.effect("runs inside the caller's transaction: a later failure there rolls its rows back", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* table
      yield* insert.run(sql, [1], bind)
      const failed = yield* Effect.gen(function*() {
        assert.strictEqual(yield* insert.run(sql, [2, 3, 4, 5, 6], bind), 5)
        // the same key again: the primary key refuses it, and the transaction ends in a rollback
        yield* insert.run(sql, [1], bind)
      }).pipe(sql.withTransaction, Effect.flip)
      assert.strictEqual(failed._tag, "SqlError")
      assert.deepStrictEqual(yield* rows, [{ k: 1, v: "v1" }])
    }).pipe(Effect.provide(Sql.layerMemory)))
})
