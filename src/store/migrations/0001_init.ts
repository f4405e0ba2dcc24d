/**
 * Initial schema: 5-minute windows, flagged records, runs, source checkpoints and daily summaries.
 * Never edited once released; a change is a new numbered migration.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // WITHOUT ROWID clusters rows by the primary key, so a time range (a day, an export page) is one contiguous
  // B-tree range with no second lookup; STRICT rejects a value of the wrong type instead of silently storing it.
  yield* sql`
    CREATE TABLE windows (
      window_start INTEGER NOT NULL,
      expiration TEXT NOT NULL CHECK (expiration GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
      strike REAL NOT NULL,
      option_type TEXT NOT NULL CHECK (option_type IN ('C', 'P')),
      bid_volume INTEGER NOT NULL,
      ask_volume INTEGER NOT NULL,
      unknown_volume INTEGER NOT NULL,
      pressure_ratio REAL,
      total_trades INTEGER NOT NULL,
      avg_trade_size REAL NOT NULL,
      dominant_side TEXT NOT NULL CHECK (dominant_side IN ('BUY', 'SELL', 'NEUTRAL')),
      trades_aggressor INTEGER NOT NULL,
      trades_quote INTEGER NOT NULL,
      trades_tick INTEGER NOT NULL,
      trades_none INTEGER NOT NULL,
      premium REAL NOT NULL,
      max_trade_size INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (window_start, expiration, strike, option_type)
    ) STRICT, WITHOUT ROWID`
  // "Recent windows of a strike": equality on strike and type, then window_start in order for ORDER BY … LIMIT.
  // "All windows of a day" is a range on window_start, the leading primary-key column, so it needs no index of its own.
  yield* sql`CREATE INDEX windows_by_strike ON windows (strike, option_type, window_start)`

  yield* sql`
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      source TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      records INTEGER NOT NULL DEFAULT 0,
      trades INTEGER NOT NULL DEFAULT 0,
      windows INTEGER NOT NULL DEFAULT 0,
      flagged INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
      summary TEXT CHECK (summary IS NULL OR json_valid(summary))
    ) STRICT`

  // ts_event is the exact u64 as a decimal string (a double would round it); the unique key makes a re-run add nothing.
  yield* sql`
    CREATE TABLE flagged_records (
      id INTEGER PRIMARY KEY,
      ts_event TEXT NOT NULL CHECK (ts_event <> '' AND ts_event NOT GLOB '*[^0-9]*'),
      instrument_id INTEGER NOT NULL,
      order_id TEXT NOT NULL CHECK (order_id <> '' AND order_id NOT GLOB '*[^0-9]*'),
      sequence INTEGER NOT NULL,
      reason TEXT NOT NULL,
      detail TEXT,
      run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,
      UNIQUE (ts_event, instrument_id, order_id, sequence, reason)
    ) STRICT`
  yield* sql`CREATE INDEX flagged_records_by_run ON flagged_records (run_id)`

  yield* sql`
    CREATE TABLE checkpoints (
      source TEXT PRIMARY KEY,
      cursor TEXT NOT NULL CHECK (json_valid(cursor)),
      updated_at INTEGER NOT NULL
    ) STRICT`

  yield* sql`
    CREATE TABLE daily_summaries (
      day TEXT NOT NULL,
      expiration TEXT NOT NULL,
      strike REAL NOT NULL,
      option_type TEXT NOT NULL CHECK (option_type IN ('C', 'P')),
      bid_volume INTEGER NOT NULL,
      ask_volume INTEGER NOT NULL,
      unknown_volume INTEGER NOT NULL,
      total_trades INTEGER NOT NULL,
      premium REAL NOT NULL,
      windows INTEGER NOT NULL,
      PRIMARY KEY (day, expiration, strike, option_type)
    ) STRICT, WITHOUT ROWID`
})
