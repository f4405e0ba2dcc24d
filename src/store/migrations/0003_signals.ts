/**
 * Signals (one row per closed window: its flow features, moneyness and, for active strikes with a baseline, the
 * signal) and the per-day baselines they are scored against. Never edited once released.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  yield* sql`
    CREATE TABLE signals (
      window_start INTEGER NOT NULL,
      expiration TEXT NOT NULL,
      strike REAL NOT NULL,
      option_type TEXT NOT NULL CHECK (option_type IN ('C', 'P')),
      day TEXT NOT NULL,
      underlying REAL,
      underlying_method TEXT CHECK (underlying_method IS NULL OR underlying_method IN ('future', 'parity')),
      otm REAL,
      baseline_key TEXT,
      active INTEGER NOT NULL CHECK (active IN (0, 1)),
      buy_volume INTEGER NOT NULL,
      sell_volume INTEGER NOT NULL,
      unknown_volume INTEGER NOT NULL,
      trades INTEGER NOT NULL,
      avg_size REAL NOT NULL,
      log_ratio REAL NOT NULL,
      call_put_premium_ratio REAL,
      mm_balance REAL NOT NULL,
      straddle REAL NOT NULL,
      sweeps INTEGER NOT NULL,
      sweep_volume INTEGER NOT NULL,
      sweep_net INTEGER NOT NULL,
      large_prints INTEGER NOT NULL,
      large_volume INTEGER NOT NULL,
      large_net INTEGER NOT NULL,
      buy_premium REAL NOT NULL,
      sell_premium REAL NOT NULL,
      baseline_n INTEGER NOT NULL,
      low_sample INTEGER NOT NULL CHECK (low_sample IN (0, 1)),
      z_volume REAL,
      z_ratio REAL,
      z_trades REAL,
      z_size REAL,
      direction TEXT CHECK (direction IS NULL OR direction IN ('BUY', 'SELL')),
      bias TEXT CHECK (bias IS NULL OR bias IN ('BULLISH', 'BEARISH')),
      score REAL,
      confidence REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
      tier TEXT CHECK (tier IS NULL OR tier IN ('low', 'medium', 'high', 'critical')),
      reported INTEGER NOT NULL CHECK (reported IN (0, 1)),
      latency_ms REAL,
      stored_at INTEGER NOT NULL,
      PRIMARY KEY (window_start, expiration, strike, option_type)
    ) STRICT, WITHOUT ROWID`
  // The baseline job reads whole trading days; exports of reported signals walk them in time order.
  yield* sql`CREATE INDEX signals_by_day ON signals (day)`
  yield* sql`CREATE INDEX signals_reported ON signals (reported, window_start)`

  yield* sql`
    CREATE TABLE baselines (
      day TEXT NOT NULL,
      key TEXT NOT NULL,
      n INTEGER NOT NULL,
      days INTEGER NOT NULL,
      log_ratio_median REAL NOT NULL,
      log_ratio_mad REAL NOT NULL,
      log_volume_median REAL NOT NULL,
      log_volume_mad REAL NOT NULL,
      trades_median REAL NOT NULL,
      trades_mad REAL NOT NULL,
      avg_size_median REAL NOT NULL,
      avg_size_mad REAL NOT NULL,
      from_days TEXT NOT NULL,
      computed_at INTEGER NOT NULL,
      PRIMARY KEY (day, key)
    ) STRICT, WITHOUT ROWID`
})
