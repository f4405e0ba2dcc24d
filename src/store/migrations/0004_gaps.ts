/**
 * Migration `0004_gaps`: intervals of the live feed the gateway could not replay, with how each ended
 * (recovered from the historical API, or still pending for a backfill). Never edited once released.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const name = "0004_gaps"

const migration = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // A gap is identified by where it starts: the cursor (ts_event in ns as decimal text, records seen at it).
  // to_ts is the exclusive end, NULL while the gap is open. status: open → pending → recovered (or stays pending).
  yield* sql`
    CREATE TABLE gaps (
      source TEXT NOT NULL,
      from_ts TEXT NOT NULL CHECK (from_ts GLOB '[0-9]*'),
      from_seen INTEGER NOT NULL CHECK (from_seen >= 0),
      to_ts TEXT CHECK (to_ts IS NULL OR to_ts GLOB '[0-9]*'),
      reason TEXT NOT NULL,
      detail TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'recovered')),
      records INTEGER NOT NULL DEFAULT 0 CHECK (records >= 0),
      recorded_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (source, from_ts, from_seen)
    ) STRICT`
  yield* sql`CREATE INDEX gaps_status ON gaps (status, from_ts)`
})

export default migration
