/**
 * Per-day baselines in `baselines`: the table a trading day is scored against, written whole by the daily
 * baseline job (a re-run replaces the day) and read back by the pipeline.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"
import type { KeyStats, Table } from "../flow/Baselines.js"
import { mapSql } from "./StoreError.js"

export type BaselineRow = {
  readonly day: string
  readonly key: string
  readonly n: number
  readonly days: number
  readonly log_ratio_median: number
  readonly log_ratio_mad: number
  readonly log_volume_median: number
  readonly log_volume_mad: number
  readonly trades_median: number
  readonly trades_mad: number
  readonly avg_size_median: number
  readonly avg_size_mad: number
  /** The trading days used, comma-separated. */
  readonly from_days: string
  readonly computed_at: number
}

/** 14 columns × 1 000 rows = 14 000 variables. */
const ROWS_PER_STATEMENT = 1_000

export const toRow = (table: Table, s: KeyStats, computedAt: number): BaselineRow => ({
  day: table.day,
  key: s.key,
  n: s.n,
  days: s.days,
  log_ratio_median: s.logRatio.median,
  log_ratio_mad: s.logRatio.mad,
  log_volume_median: s.logVolume.median,
  log_volume_mad: s.logVolume.mad,
  trades_median: s.trades.median,
  trades_mad: s.trades.mad,
  avg_size_median: s.avgSize.median,
  avg_size_mad: s.avgSize.mad,
  from_days: table.from.join(","),
  computed_at: computedAt
})

export const fromRows = (day: string, rows: ReadonlyArray<BaselineRow>): Table => ({
  day,
  from: rows.length === 0 || rows[0]!.from_days === "" ? [] : rows[0]!.from_days.split(","),
  stats: new Map(rows.map((r) => [r.key, {
    key: r.key,
    n: r.n,
    days: r.days,
    logRatio: { median: r.log_ratio_median, mad: r.log_ratio_mad },
    logVolume: { median: r.log_volume_median, mad: r.log_volume_mad },
    trades: { median: r.trades_median, mad: r.trades_mad },
    avgSize: { median: r.avg_size_median, mad: r.avg_size_mad }
  }]))
})

export class BaselinesRepo extends Effect.Service<BaselinesRepo>()("ifd/store/BaselinesRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Replaces the stored baseline of `table.day`; returns the keys written. */
    const replace = Effect.fn("BaselinesRepo.replace")(
      function*(table: Table) {
        const now = yield* Clock.currentTimeMillis
        const rows = [...table.stats.values()].map((s) => toRow(table, s, now))
        return yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`DELETE FROM baselines WHERE day = ${table.day}`
          for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
            yield* sql`INSERT INTO baselines ${sql.insert(rows.slice(i, i + ROWS_PER_STATEMENT))}`
          }
          return rows.length
        }))
      },
      mapSql("BaselinesRepo.replace")
    )

    /** The baseline stored for `day`, if the job has computed one. */
    const get = Effect.fn("BaselinesRepo.get")(
      function*(day: string) {
        const rows = yield* sql<BaselineRow>`SELECT * FROM baselines WHERE day = ${day} ORDER BY key`
        return rows.length === 0 ? undefined : fromRows(day, rows)
      },
      mapSql("BaselinesRepo.get")
    )

    /** Days with a stored baseline, oldest first. */
    const days = Effect.fn("BaselinesRepo.days")(
      function*() {
        const rows = yield* sql<{ day: string }>`SELECT DISTINCT day FROM baselines ORDER BY day`
        return rows.map((r) => r.day)
      },
      mapSql("BaselinesRepo.days")
    )

    return { replace, get, days } as const
  })
}) {}
