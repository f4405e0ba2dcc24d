/**
 * Multi-row INSERTs of a fixed set of shapes. A batch of n rows is cut into statements of 256, 64, 16, 4 and 1 rows,
 * so the SQL text repeats and every statement after the first few is a hit in the client's prepared-statement cache
 * (a text per batch size would be prepared anew each time), and the text is built once per shape instead of being
 * compiled by `sql.insert` for every batch. Values are bound positionally from one flat array, without a row object
 * per row.
 */
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"

/** Rows per statement, largest first; 256 × 41 columns binds 10 496 variables, under SQLite's 32 766. */
export const SHAPES: ReadonlyArray<number> = [256, 64, 16, 4, 1]

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
   * Writes one row per item (`bind` appends the item's `columns` values in column order); returns the rows SQLite
   * reports as changed. Each statement gets its own array of at most 256 rows' values (under 128 KiB, so an ordinary
   * young-generation object, never a large object left for a full GC). It issues several statements, so it runs in
   * the caller's transaction, or in one of its own.
   */
  run<A>(
    sql: SqlClient.SqlClient,
    items: ReadonlyArray<A>,
    bind: (out: Array<unknown>, item: A) => void
  ): Effect.Effect<number, SqlError> {
    return Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (tx) =>
      Option.isSome(tx) ? this.runOn(tx.value[0], items, bind) : sql.withTransaction(this.run(sql, items, bind)))
  }

  /**
   * The statements straight on the transaction's connection: the values go to the prepared statement as they are,
   * where `sql.unsafe` would first copy every one of them into a new array (~20 MB per 5M-record replay).
   */
  private runOn<A>(
    conn: Connection,
    items: ReadonlyArray<A>,
    bind: (out: Array<unknown>, item: A) => void
  ): Effect.Effect<number, SqlError> {
    return Effect.suspend(() => {
      const statements: Array<Effect.Effect<unknown, SqlError>> = []
      let at = 0
      for (const shape of SHAPES) {
        while (items.length - at >= shape) {
          const params: Array<unknown> = []
          for (let i = at; i < at + shape; i++) bind(params, items[i]!)
          if (params.length !== shape * this.columns) {
            return Effect.dieMessage(`BulkInsert: ${params.length} values for ${shape} rows of ${this.columns} columns`)
          }
          statements.push(conn.executeRaw(this.text(shape), params))
          at += shape
        }
      }
      // executeRaw gives better-sqlite3's RunResult for a statement that returns no rows.
      return Effect.reduce(statements, 0, (changed, statement) =>
        Effect.map(statement, (r) => changed + (r as { readonly changes: number }).changes))
    })
  }
}
