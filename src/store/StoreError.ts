/**
 * The one failure family of the storage layer. Driver errors (`SqlError`, better-sqlite3 throws) are mapped here
 * once, at the repo boundary, keeping only safe text: the SQLite result code, never the driver's message or a
 * bound value.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema, Stream } from "effect"

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  /** Open: the database could not be opened or configured; Migrate: a migration failed; Sql: a statement failed;
   * Input: an argument was rejected before reaching SQLite; NotFound: the addressed row does not exist. */
  reason: Schema.Literal("Open", "Migrate", "Sql", "Input", "NotFound"),
  /** The service method or step, e.g. "WindowsRepo.upsert". */
  operation: Schema.String,
  /** Safe text only: a SQLite result code such as SQLITE_CONSTRAINT_CHECK, or our own words. */
  detail: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${this.operation} failed (${this.reason})${this.detail === undefined ? "" : `: ${this.detail}`}`
  }
}

/** The SQLite result code (`SQLITE_…`) of a driver error, found on the error or its cause. */
export const sqliteCode = (error: unknown): string | undefined => {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === "object" && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === "string" && code.startsWith("SQLITE_")) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

export const fromSqlError = (operation: string, reason: StoreError["reason"] = "Sql") => (error: SqlError) =>
  new StoreError({ reason, operation, detail: sqliteCode(error) ?? "statement failed" })

/** Maps the `SqlError` channel of an effect to `StoreError`; for the second argument of `Effect.fn`. */
export const mapSql = (operation: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    self,
    (e): e is Extract<E, SqlError> => isSqlError(e),
    (e) => Effect.fail(fromSqlError(operation)(e))
  )

export const mapSqlStream = (operation: string) => <A, E, R>(self: Stream.Stream<A, E, R>) =>
  Stream.catchAll(self, (e) => Stream.fail(isSqlError(e) ? fromSqlError(operation)(e) : e as Exclude<E, SqlError>))

const isSqlError = (u: unknown): u is SqlError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlError"
