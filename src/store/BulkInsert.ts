/**
 * Multi-row INSERTs of a fixed set of shapes. A batch of n rows is cut into statements of 256, 64, 16, 4 and 1 rows,
 * so the SQL text repeats and every statement after the first few is a hit in the client's prepared-statement cache
 * (a text per batch size would be prepared anew each time), and the text is built once per shape instead of being
 * compiled by `sql.insert` for every batch. Values are bound positionally from one flat array, without a row object
 * per row; a write reuses one array per statement shape for all its statements.
 */
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"

/** Rows per statement, largest first; 256 × 41 columns binds 10 496 variables, under SQLite's 32 766. */
export const SHAPES: ReadonlyArray<number> = [256, 64, 16, 4, 1]

/**
 * Writes one item's values into `out` from index `at`, in column order, and returns the index after the last one
 * (which must be `at` + the statement's column count). `index` is the item's position in the items written.
 */
export type Bind<A> = (out: Array<unknown>, at: number, item: A, index: number) => number

export class BulkInsert {
  private readonly texts = new Map<number, string>()
  private readonly row: string

  /**
   * `head` is the statement up to VALUES (e.g. `INSERT INTO t (a, b)`), `tail` whatever follows the rows (an
   * ON CONFLICT clause, or "").
   */
  constructor(readonly head: string, readonly columns: number, readonly tail: string) {
    if (SHAPES[0]! * columns > 32_766) throw new Error(`${columns} columns × ${SHAPES[0]} rows exceed SQLite's variable limit`)
    this.row = `(${Array.from({ length: columns }, () => "?").join(",")})`
  }

  /** The SQL text for `rows` rows. */
  text(rows: number): string {
    let t = this.texts.get(rows)
    if (t === undefined) {
      t = `${this.head} VALUES ${Array.from({ length: rows }, () => this.row).join(",")} ${this.tail}`
      this.texts.set(rows, t)
    }
    return t
  }

  /**
   * Writes one row per item (`bind` puts the item's `columns` values in column order); returns the rows SQLite
   * reports as changed. It issues several statements, so it runs in the caller's transaction, or in one of its own.
   */
  run<A>(sql: SqlClient.SqlClient, items: ReadonlyArray<A>, bind: Bind<A>): Effect.Effect<number, SqlError> {
    return Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (tx) =>
      Option.isSome(tx) ? this.runOn(tx.value[0], items, bind) : sql.withTransaction(this.run(sql, items, bind)))
  }

  /**
   * The statements one after another, straight on the transaction's connection: the values go to the prepared
   * statement as they are, where `sql.unsafe` would first copy every one of them into a new array. Each statement's
   * values are written just before it runs into the array of its shape, so a 256-row array (under 128 KiB: an
   * ordinary young-generation object, never a large object left for a full GC) serves every 256-row statement.
   */
  private runOn<A>(conn: Connection, items: ReadonlyArray<A>, bind: Bind<A>): Effect.Effect<number, SqlError> {
    return Effect.suspend(() => {
      const arrays = new Map<number, Array<unknown>>()
      const columns = this.columns
      let at = 0
      let changed = 0
      const next = (): Effect.Effect<number, SqlError> => {
        const left = items.length - at
        if (left === 0) return Effect.succeed(changed)
        const shape = SHAPES.find((n) => n <= left)!
        let params = arrays.get(shape)
        if (params === undefined) arrays.set(shape, params = new Array(shape * columns))
        for (let i = 0, k = 0; i < shape; i++, k += columns) {
          const end = bind(params, k, items[at + i]!, at + i)
          if (end !== k + columns) {
            return Effect.dieMessage(`BulkInsert: ${end - k} values for a row of ${columns} columns`)
          }
        }
        at += shape
        // executeRaw gives better-sqlite3's RunResult for a statement that returns no rows.
        return Effect.flatMap(conn.executeRaw(this.text(shape), params), (r) => {
          changed += (r as { readonly changes: number }).changes
          return next()
        })
      }
      return next()
    })
  }
}
