/**
 * Migration `0002_cost_ledger`: the table of money spent on Databento data, one row per flush of the live meter
 * or per priced historical request. Registered by the store's `Migrations.ts` loader; never edited once released.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** The key to register it under in `Migrator.fromRecord`. */
export const name = "0002_cost_ledger"

const migration = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // trade_date is the CME trade date (New York, rolling at 18:00 ET by default) the spending counts against;
  // usd is stored as charged, so a later change of IFD_PRICE_PER_GB does not rewrite history.
  yield* sql`
    CREATE TABLE cost_ledger (
      id INTEGER PRIMARY KEY,
      trade_date TEXT NOT NULL CHECK (trade_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
      kind TEXT NOT NULL CHECK (kind IN ('live', 'historical')),
      bytes INTEGER NOT NULL CHECK (bytes >= 0),
      usd REAL NOT NULL CHECK (usd >= 0),
      detail TEXT,
      recorded_at INTEGER NOT NULL
    ) STRICT`
  // Covers the day and month sums (a trade_date range) without touching the table.
  yield* sql`CREATE INDEX cost_ledger_totals ON cost_ledger (trade_date, kind, bytes, usd)`
})

export default migration
