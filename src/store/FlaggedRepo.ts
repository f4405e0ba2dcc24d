/**
 * Records the pipeline flagged (book inconsistencies, undecidable trades, …) in `flagged_records`. Inserts are
 * batched and idempotent: the key (ts_event, instrument_id, order_id, sequence, reason) makes a re-run add nothing.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { mapSql, StoreError } from "./StoreError.js"

export interface FlaggedRecord {
  /** ts_event, ns since epoch: a bigint or its exact decimal string (never a double). */
  readonly tsEvent: bigint | string
  readonly instrumentId: number
  /** Order id (u64): a bigint or its decimal string; "0" when the record has none. */
  readonly orderId: bigint | string
  readonly sequence: number
  /** Short constant naming the problem, e.g. "ModifyUnknownOrder". */
  readonly reason: string
  /** Safe free text. */
  readonly detail?: string | null | undefined
}

/** One row of `flagged_records`, as bound by `sql.insert`. */
export type FlaggedRow = {
  readonly ts_event: string
  readonly instrument_id: number
  readonly order_id: string
  readonly sequence: number
  readonly reason: string
  readonly detail: string | null
  readonly run_id: number | null
}

/** 7 columns × 1 000 rows = 7 000 variables, well under SQLite's 32 766. */
export const ROWS_PER_STATEMENT = 1_000

const DECIMAL = /^\d+$/

export class FlaggedRepo extends Effect.Service<FlaggedRepo>()("ifd/store/FlaggedRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const insertStatement = (rows: ReadonlyArray<FlaggedRow>) =>
      sql`INSERT INTO flagged_records ${sql.insert(rows)}
        ON CONFLICT (ts_event, instrument_id, order_id, sequence, reason) DO NOTHING`.raw as Effect.Effect<
          { readonly changes: number },
          SqlError
        >

    /** Stores the records (one transaction), tagged with the run that found them; returns how many were new. */
    const insert = Effect.fn("FlaggedRepo.insert")(
      function*(records: ReadonlyArray<FlaggedRecord>, runId?: number) {
        if (records.length === 0) return 0
        const rows: Array<FlaggedRow> = new Array(records.length)
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!
          const tsEvent = String(r.tsEvent)
          const orderId = String(r.orderId)
          if (!DECIMAL.test(tsEvent) || !DECIMAL.test(orderId)) {
            return yield* new StoreError({
              reason: "Input",
              operation: "FlaggedRepo.insert",
              detail: "tsEvent and orderId must be non-negative integers"
            })
          }
          rows[i] = {
            ts_event: tsEvent,
            instrument_id: r.instrumentId,
            order_id: orderId,
            sequence: r.sequence,
            reason: r.reason,
            detail: r.detail ?? null,
            run_id: runId ?? null
          }
        }
        return yield* sql.withTransaction(Effect.gen(function*() {
          let inserted = 0
          for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
            inserted += (yield* insertStatement(rows.slice(i, i + ROWS_PER_STATEMENT))).changes
          }
          return inserted
        }))
      },
      mapSql("FlaggedRepo.insert")
    )

    const count = Effect.fn("FlaggedRepo.count")(
      function*(runId?: number) {
        const rows = runId === undefined
          ? yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM flagged_records`
          : yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM flagged_records WHERE run_id = ${runId}`
        return rows[0]?.n ?? 0
      },
      mapSql("FlaggedRepo.count")
    )

    return { insert, count } as const
  })
}) {}
