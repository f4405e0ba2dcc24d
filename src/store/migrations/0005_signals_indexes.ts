/**
 * Migration `0005_signals_indexes`: `signals` keeps only a partial index over its reported rows. Every secondary
 * index is written on each upsert, and a replay stores tens of thousands of windows; `signals_by_day` is not needed
 * because a New York day is a range of `window_start`, the primary key's first column. Never edited once released.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const name = "0005_signals_indexes"

const migration = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP INDEX signals_by_day`
  yield* sql`DROP INDEX signals_reported`
  // Only reported rows enter it, so writing an unreported window updates no index; exports and counts of
  // reported signals still walk it in time order.
  yield* sql`CREATE INDEX signals_reported_at ON signals (window_start) WHERE reported = 1`
})

export default migration
