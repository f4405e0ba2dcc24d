/**
 * Retention: whole UTC days older than the age limit are rolled from `windows` into `daily_summaries` and
 * deleted, in one transaction, so a window is counted in a summary exactly once however often prune runs.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect } from "effect"
import { mapSql, StoreError } from "./StoreError.js"
import { DAY_MS } from "./WindowsRepo.js"

export type PruneResult = {
  /** Windows starting before this (ms since epoch, a UTC midnight) were pruned. */
  readonly cutoff: number
  /** Summary rows inserted or added to. */
  readonly summaries: number
  readonly windowsDeleted: number
}

export class Retention extends Effect.Service<Retention>()("ifd/store/Retention", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /**
     * Prunes windows of the UTC days that ended at least `olderThanDays` days before `now` (default: `Clock`).
     * Summaries merge-add: the windows aggregated are exactly the ones deleted in the same transaction, so a
     * second prune finds nothing, and `WindowsRepo.upsert` refuses windows of a day already summarised.
     */
    const prune = Effect.fn("Retention.prune")(
      function*(options: { readonly olderThanDays: number; readonly now?: number }) {
        if (!Number.isInteger(options.olderThanDays) || options.olderThanDays < 0) {
          return yield* new StoreError({
            reason: "Input",
            operation: "Retention.prune",
            detail: "olderThanDays must be a non-negative integer"
          })
        }
        const now = options.now ?? (yield* Clock.currentTimeMillis)
        // Whole days only, so a day's summary is complete after the prune that creates it.
        const cutoff = Math.floor((now - options.olderThanDays * DAY_MS) / DAY_MS) * DAY_MS
        return yield* sql.withTransaction(Effect.gen(function*() {
          const rolled = (yield* sql`INSERT INTO daily_summaries (day, expiration, strike, option_type, bid_volume,
              ask_volume, unknown_volume, total_trades, premium, windows)
            SELECT strftime('%Y-%m-%d', window_start / 1000, 'unixepoch'), expiration, strike, option_type,
              SUM(bid_volume), SUM(ask_volume), SUM(unknown_volume), SUM(total_trades), SUM(premium), COUNT(*)
            FROM windows WHERE window_start < ${cutoff}
            GROUP BY 1, expiration, strike, option_type
            ON CONFLICT (day, expiration, strike, option_type) DO UPDATE SET
              bid_volume = bid_volume + excluded.bid_volume, ask_volume = ask_volume + excluded.ask_volume,
              unknown_volume = unknown_volume + excluded.unknown_volume,
              total_trades = total_trades + excluded.total_trades, premium = premium + excluded.premium,
              windows = windows + excluded.windows`.raw as Effect.Effect<{ readonly changes: number }, SqlError>)
          const deleted = (yield* sql`DELETE FROM windows WHERE window_start < ${cutoff}`.raw as Effect.Effect<
            { readonly changes: number },
            SqlError
          >)
          return { cutoff, summaries: rolled.changes, windowsDeleted: deleted.changes } satisfies PruneResult
        }))
      },
      mapSql("Retention.prune")
    )

    return { prune } as const
  })
}) {}
